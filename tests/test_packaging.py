"""lstmlib as a published package: one version everywhere, an SPDX licence, type hints shipped,
citation metadata that validates, and a changelog for the version it says.

The version is written once, in ``lstmlib/_version.py``; ``pyproject.toml`` reads it, and
``CITATION.cff`` and ``CHANGELOG.md`` repeat it.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

import lstmlib

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
VERSION = re.compile(r"^\d+\.\d+\.\d+([ab]\d+|rc\d+)?$")  # a release, as PEP 440 spells it


def test_the_version_is_written_once_and_the_installed_metadata_agrees():
    from importlib.metadata import version

    assert VERSION.match(lstmlib.__version__), lstmlib.__version__
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "lstmlib._version.__version__"}
    assert version("lstmlib") == lstmlib.__version__, "reinstall: pip install -e ."


def test_the_licence_is_an_spdx_expression_with_both_licence_files():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT AND CC-BY-4.0"
    assert all((ROOT / f).is_file() for f in project["license-files"])
    assert set(project["license-files"]) == {"LICENSE", "LICENSE-TEXT.md"}
    # PEP 639: licence classifiers and an expression together are an error in setuptools >= 77.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    requires = PYPROJECT["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    low = re.search(r">=\s*(\d+)", setuptools)
    assert low and int(low.group(1)) >= 77, f"PEP 639 needs setuptools>=77, not {setuptools!r}"


def test_the_project_urls_point_at_the_repository_the_book_links_to():
    urls = PYPROJECT["project"]["urls"]
    assert urls["Repository"] == REPOSITORY
    assert all(url.startswith(REPOSITORY) for url in urls.values()), urls


def test_the_package_says_it_has_type_hints():
    assert (ROOT / "lstmlib" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["lstmlib"]


def test_citation_cff_has_the_required_fields_and_formats_of_cff_1_2_0():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):
        assert cff.get(key), f"CITATION.cff: {key} is required"
    assert cff["cff-version"] == "1.2.0"
    assert cff.get("type", "software") in ("software", "dataset")
    for author in cff["authors"]:
        # A person has family-names (and maybe given-names); an entity has a name.
        assert isinstance(author, dict) and (author.get("family-names") or author.get("name"))
    assert isinstance(cff["version"], str) and cff["version"] == lstmlib.__version__
    licences = cff["license"] if isinstance(cff["license"], list) else [cff["license"]]
    assert sorted(licences) == sorted(PYPROJECT["project"]["license"].split(" AND "))
    assert cff["repository-code"] == REPOSITORY
    if "date-released" in cff:  # YAML reads an unquoted YYYY-MM-DD as a date
        assert isinstance(cff["date-released"], datetime.date)
    assert all(isinstance(k, str) and k for k in cff.get("keywords", []))


def test_the_changelog_keeps_a_changelog_and_its_latest_release_is_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, flags=re.MULTILINE)
    assert headings and headings[0][0] == "Unreleased", "the first section is [Unreleased]"
    releases = headings[1:]
    assert releases, "no released version"
    for version, rest in releases:
        assert VERSION.match(version), version
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest), f"{version}: '## [x.y.z] - YYYY-MM-DD'"
    assert releases[0][0] == lstmlib.__version__
    for name, _ in headings:  # every heading's [name] is a link defined at the bottom
        assert re.search(rf"^\[{re.escape(name)}\]: https://", text, flags=re.MULTILINE), name
    sections = re.findall(r"^### (.+)$", text, flags=re.MULTILINE)
    kinds = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert set(sections) <= kinds, (
        f"sections other than Keep a Changelog's: {set(sections) - kinds}"
    )


def test_the_wheel_ships_py_typed_and_both_licences_and_setuptools_warns_of_nothing(tmp_path):
    # Built from a copy of what the wheel is made of, so that setuptools' build/ and egg-info
    # land in tmp_path; pip builds in an isolated environment with the setuptools pyproject.toml
    # asks for.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "lstmlib", source / "lstmlib", ignore=shutil.ignore_patterns("__py*"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path)]
    result = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=300, check=False
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    # setuptools warns as a Python warning class (BuildBackendWarning, SetuptoolsDeprecationWarning,
    # ...): e.g. "`project.license` as a TOML table is deprecated", "License classifiers are
    # deprecated". Not one of them, about the licence or anything else.
    warnings = sorted(
        {line.strip() for line in log.splitlines() if re.search(r"\w+Warning\b", line)}
    )
    assert not warnings, "\n".join(warnings)
    (wheel,) = tmp_path.glob("lstmlib-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    info = f"lstmlib-{lstmlib.__version__}.dist-info"
    assert "lstmlib/py.typed" in names
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/LICENSE-TEXT.md"} <= names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT AND CC-BY-4.0" in metadata
