"""The project's own consistency: packaging, environment, table of contents and notebooks agree."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _spec(requirement: str) -> str:
    """The version range, without environment markers (``; python_version < '3.11'``)."""
    return requirement.split(";")[0][len(_name(requirement)) :].replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("book", "test"):
        reqs += project["optional-dependencies"][extra]
    return {_name(r): _spec(r) for r in reqs}


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and _name(dep) not in ("python", "pip"):
            out[_name(dep)] = _spec(dep)
    return out


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_environment_yml_installs_the_same_packages_as_pyproject():
    pyproject, environment = _pyproject_requirements(), _environment_requirements()
    assert sorted(environment) == sorted(pyproject), (
        f"only in pyproject.toml: {sorted(set(pyproject) - set(environment))}; "
        f"only in environment.yml: {sorted(set(environment) - set(pyproject))}"
    )
    differing = {
        k: (pyproject[k], environment[k]) for k in pyproject if pyproject[k] != environment[k]
    }
    assert not differing, f"version ranges differ (pyproject, environment.yml): {differing}"


def test_environment_yml_installs_the_project_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_jupyter_book_is_pinned_below_2():
    assert "<2" in _pyproject_requirements()["jupyter-book"], "jupyter-book 2.x ignores _toc.yml"


@pytest.mark.parametrize("requirement", sorted(_pyproject_requirements().items()))
def test_every_dependency_has_a_version_range(requirement):
    name, spec = requirement
    assert ">=" in spec and "<" in spec, f"{name}: pin a range like '>=1.2,<2', got {spec!r}"


def test_every_toc_entry_exists():
    def exists(entry: str) -> bool:
        return any((ROOT / entry).with_suffix(suffix).exists() for suffix in (".md", ".ipynb"))

    missing = [entry for entry in _toc_files() if not exists(entry)]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_notebook_and_page_in_book_is_in_the_toc():
    listed = {Path(f).name for f in _toc_files()}
    pages = {p.stem for p in BOOK.glob("*.ipynb")} | {p.stem for p in BOOK.glob("*.md")}
    orphans = sorted(p for p in pages if p not in listed and not p.startswith("_"))
    assert not orphans, f"pages in book/ missing from _toc.yml: {orphans}"


@pytest.mark.parametrize("notebook", sorted(BOOK.glob("[0-9]*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors(notebook):
    nb = json.loads(notebook.read_text())
    kernel = nb["metadata"].get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{notebook.name}: kernelspec must be python3, not {kernel}"
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and c["source"]]
    counts = [c.get("execution_count") for c in code]
    assert all(counts), f"{notebook.name}: cells without stored outputs (run make notebooks)"
    assert counts == list(range(1, len(counts) + 1)), f"{notebook.name}: not run top to bottom"
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{notebook.name}: stored outputs contain an error"
    stderr = [o for c in code for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, f"{notebook.name}: stored outputs contain stderr text: {stderr[0]['text']!r}"


@pytest.mark.parametrize("notebook", sorted(BOOK.glob("[0-9]*.ipynb")), ids=lambda p: p.name)
def test_machine_dependent_cells_are_few_and_their_claims_asserted_in_the_next_cell(notebook):
    # A cell whose output nbval ignores shows what one machine computed: at most a quarter of a
    # chapter's code cells, and the next code cell asserts what holds on every machine.
    nb = json.loads(notebook.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and c["source"]]
    ignored = [k for k, c in enumerate(code) if "NBVAL_IGNORE_OUTPUT" in "".join(c["source"])]
    assert 4 * len(ignored) <= len(code), (
        f"{notebook.name}: {len(ignored)} of {len(code)} code cells ignore their output in nbval "
        "(at most a quarter may)"
    )
    for k in ignored:
        following = "".join(code[k + 1]["source"]) if k + 1 < len(code) else ""
        assert "assert" in following, (
            f"{notebook.name}: code cell {k + 1} ignores its output, and the cell after it "
            "asserts nothing"
        )


@pytest.mark.parametrize("notebook", sorted(BOOK.glob("[0-9]*.ipynb")), ids=lambda p: p.name)
def test_every_figure_in_a_notebook_has_alt_text(notebook):
    nb = json.loads(notebook.read_text())
    for index, cell in enumerate(nb["cells"]):
        has_image = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        assert not has_image or alt.strip(), f"{notebook.name}: cell {index}: figure without alt"


def test_notebooks_store_no_absolute_paths_of_this_machine():
    for notebook in BOOK.glob("*.ipynb"):
        text = notebook.read_text()
        assert "/work/" not in text and "/root/" not in text, f"{notebook.name} leaks a local path"


def test_vendored_scripts_are_present_with_their_licences():
    vendor = BOOK / "_extra" / "vendor"
    for path in (
        "mathjax/tex-chtml.js",
        "mathjax/LICENSE",
        "requirejs/require.js",
        "requirejs/LICENSE",
        "npm/@jupyter-widgets/html-manager/dist/embed-amd.js",
        "npm/@jupyter-widgets/html-manager/LICENSE",
    ):
        assert (vendor / path).is_file(), f"missing vendored file {path}"


# Reading conventions (CONTRIBUTING, "Writing a chapter"); book/_ext/tag_cells.py applies them.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _toc_chapters() -> list[Path]:
    """The notebooks that the toc lists (every chapter, the new ones included)."""
    paths = [(ROOT / entry).with_suffix(".ipynb") for entry in _toc_files()]
    return [p for p in paths if p.exists()]


def _is_check(statement: ast.stmt) -> bool:
    """An assert, or a loop/if/with of asserts (and the assignments they need)."""
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, (ast.For, ast.If, ast.With)):
        body = statement.body + getattr(statement, "orelse", [])
        assigns = (ast.Assign, ast.AugAssign)
        return all(_is_check(s) or isinstance(s, assigns) for s in body) and any(
            _is_check(s) for s in body
        )
    return False


def _code_cells(notebook: Path):
    nb = json.loads(notebook.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
            yield index, cell, ast.parse("".join(cell["source"])).body


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("notebook", _toc_chapters(), ids=lambda p: p.name)
def test_a_chapters_checks_are_collapsed_behind_show_the_checks(notebook):
    # Asserts stay in the notebook and run under nbval, but the HTML shows them only on demand.
    # (The cell after one whose output nbval ignores asserts in itself: see the test above.)
    after_ignored = False
    for index, cell, body in _code_cells(notebook):
        where = f"{notebook.name}: cell {index}"
        hidden = {"hide-input", "remove-input", "remove-cell"} & set(_tags(cell))
        ends_with_checks = len(body) > 1 and _is_check(body[-1]) and not _is_check(body[0])
        follows_ignored, after_ignored = (
            after_ignored,
            "NBVAL_IGNORE_OUTPUT" in "".join(cell["source"]),
        )
        if not hidden and not follows_ignored and ends_with_checks:
            pytest.fail(
                f"{where} ends with checks after code a reader should see: move the checks into a "
                "cell of their own after it (python book/_ext/tag_cells.py does)"
            )
        only_checks = all(_is_check(s) or isinstance(s, (ast.Assign, ast.AugAssign)) for s in body)
        if only_checks and any(_is_check(s) for s in body) and not cell.get("outputs"):
            prompt = cell.get("metadata", {}).get("mystnb", {}).get("code_prompt_show")
            assert "hide-input" in _tags(cell) and prompt == "Show the checks", (
                f"{where} only checks: tag it hide-input with "
                '"mystnb": {"code_prompt_show": "Show the checks"} (tag_cells.py does)'
            )


@pytest.mark.parametrize("notebook", _toc_chapters(), ids=lambda p: p.name)
def test_a_chapter_shows_no_live_widget_in_the_html_and_collapses_its_set_up(notebook):
    # A live ipywidgets slider needs a kernel: in the HTML it would move and redraw nothing. The
    # kernel-free slider next to it stands in for it there.
    cells = list(_code_cells(notebook))
    for index, cell, _ in cells:
        if any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", [])):
            assert "remove-cell" in _tags(cell), f"{notebook.name}: cell {index}: tag remove-cell"
    _, first, body = cells[0]
    if any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body) and not first["outputs"]:
        assert {"hide-input", "remove-cell"} & set(_tags(first)), (
            f"{notebook.name}: collapse the imports and set-up cell (tag hide-input)"
        )
