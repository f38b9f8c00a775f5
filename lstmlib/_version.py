"""The version of lstmlib: written here only (pyproject.toml reads it, CITATION.cff and
CHANGELOG.md repeat it, and tests/test_packaging.py checks that they agree)."""

__version__ = "0.1.0"
