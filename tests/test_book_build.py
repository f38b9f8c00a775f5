"""The book build: warnings are errors, and a broken page fails the build naming its file.

Marked ``build``: ``make test`` runs these right after it has built the book into _build/html.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILD_FLAGS = ["--builder", "html", "--all", "-W", "-n", "--keep-going"]

pytestmark = pytest.mark.build


def build(book: Path, out: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(book), "--path-output", str(out)]
    return subprocess.run(command + BUILD_FLAGS, capture_output=True, text=True, timeout=600)


def test_every_notebook_is_executed_by_the_build_so_the_html_is_never_stale():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "force"
    assert config["execute"]["allow_errors"] is False


def test_every_toc_page_was_built():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    missing = [f for f in files if not (ROOT / "_build" / "html" / f"{f}.html").exists()]
    assert not missing, f"pages missing from _build/html (run the build first): {missing}"


def test_a_broken_book_fails_the_build_naming_each_broken_file(tmp_path):
    result = build(FIXTURES / "broken_book", tmp_path)
    log = result.stdout + result.stderr
    assert result.returncode != 0, "the build passed although every page of the fixture is broken"
    expected = {
        "raises.ipynb": "Executing notebook failed",
        "bad_reference.md": "unknown document",
        "missing_image.md": "image file not readable",
    }
    for filename, message in expected.items():
        lines = [line for line in log.splitlines() if filename in line and "WARNING" in line]
        assert any(message in line for line in lines), (
            f"the build log does not report {message!r} for {filename}:\n{log[-3000:]}"
        )
