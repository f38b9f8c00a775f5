"""Apply the book's reading conventions to chapter notebooks (run it on a new chapter).

``python book/_ext/tag_cells.py book/14_new_chapter.ipynb [...]`` rewrites each notebook in place:

- **checks**: trailing ``assert`` statements of a cell that also computes, prints or draws move into
  a cell of their own right after it; a cell of checks only (asserts, loops of asserts, and the
  assignments they need, no output) is collapsed in the HTML behind "Show the checks";
- **set-up**: the first code cell (imports, print options, plot style) is collapsed behind "Show the
  imports and set-up";
- **live widgets**: a cell whose output is an ipywidgets widget is removed from the HTML (it needs a
  running kernel); the notebook keeps it, and the kernel-free slider next to it stands in for it.

Nothing is deleted, every cell still runs under nbval, and no output changes: the asserts that move
print nothing, a cell is not split where its new last line would be a value Jupyter shows, and
execution counts are renumbered top to bottom. Run nbval on the notebook after it.
``tests/test_project.py`` checks the result on every chapter in the toc.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

CHECKS = {"code_prompt_show": "Show the checks", "code_prompt_hide": "Hide the checks"}
SETUP = {
    "code_prompt_show": "Show the imports and set-up",
    "code_prompt_hide": "Hide the imports and set-up",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _source(cell) -> str:
    return "".join(cell["source"])


def is_check(statement: ast.stmt) -> bool:
    """An assert, or a loop/if/with of asserts (and the assignments they need)."""
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, (ast.For, ast.If, ast.With)):
        body = statement.body + getattr(statement, "orelse", [])
        kinds = [is_check(s) or isinstance(s, (ast.Assign, ast.AugAssign)) for s in body]
        return all(kinds) and any(is_check(s) for s in body)
    return False


def is_check_cell(cell) -> bool:
    """A code cell that only checks: no output, asserts and the assignments they need."""
    if cell["cell_type"] != "code" or cell.get("outputs"):
        return False
    try:
        body = ast.parse(_source(cell)).body
    except SyntaxError:
        return False
    kinds = [is_check(s) or isinstance(s, (ast.Assign, ast.AugAssign)) for s in body]
    return bool(body) and all(kinds) and any(is_check(s) for s in body)


def shows_a_live_widget(cell) -> bool:
    return any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", []))


def _tag(cell, tag: str, prompts: dict | None = None) -> None:
    metadata = cell.setdefault("metadata", {})
    tags = metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
    if prompts:
        metadata.setdefault("mystnb", {}).update(prompts)


def _shows_a_value(statement: ast.stmt) -> bool:
    """A bare expression, whose value Jupyter shows when it ends a cell (print() and
    plt.show() return None)."""
    if not isinstance(statement, ast.Expr):
        return False
    call = statement.value
    if isinstance(call, ast.Call):
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        return name not in ("print", "show")
    return True


def split_trailing_checks(cell):
    """Split ``cell`` into (work, checks) at its trailing asserts; ``(cell, None)`` if none."""
    source = _source(cell)
    body = ast.parse(source).body
    k = len(body)
    while k > 0 and is_check(body[k - 1]):
        k -= 1
    if k == 0 or k == len(body) or _shows_a_value(body[k - 1]):
        return cell, None  # nothing to split, or Jupyter would show the value the split leaves last
    lines = source.splitlines(keepends=True)
    start = body[k].lineno - 1
    while start > body[k - 1].end_lineno and lines[start - 1].lstrip().startswith("#"):
        start -= 1  # a comment right above the first check belongs to the checks
    work = dict(cell, source="".join(lines[:start]).rstrip("\n"))
    checks = {
        "cell_type": "code",
        "id": f"{cell.get('id', 'cell')}-checks"[-64:],
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": "".join(lines[start:]).rstrip("\n"),
    }
    return work, checks


def apply(nb: dict) -> dict:
    """The notebook with the conventions applied (a new dict; cells' sources as strings)."""
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            cells.append(cell)
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "hide-input" in tags or "remove-cell" in tags or "remove-input" in tags:
            cells.append(cell)  # hidden already (a solution, the set-up): its asserts are too
            continue
        after_ignored = any(
            c["cell_type"] == "code" and "NBVAL_IGNORE_OUTPUT" in _source(c) for c in cells[-1:]
        )
        if is_check_cell(cell) or after_ignored:
            # Checks with the assignments they need are collapsed whole (below). The cell after one
            # whose output nbval ignores must itself assert what holds on every machine: kept whole.
            cells.append(cell)
            continue
        work, checks = split_trailing_checks(cell)
        cells.append(work)
        if checks is not None:
            cells.append(checks)
    first = next(c for c in cells if c["cell_type"] == "code")
    if "import" in _source(first) and not first.get("outputs"):
        _tag(first, "hide-input", SETUP)
    count = 0
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        if is_check_cell(cell) and cell is not first:
            _tag(cell, "hide-input", CHECKS)
        if shows_a_live_widget(cell):
            _tag(cell, "remove-cell")
        if _source(cell).strip():
            count += 1
            cell["execution_count"] = count
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = count
    return dict(nb, cells=cells)


def _as_lines(nb: dict) -> dict:
    for cell in nb["cells"]:
        if isinstance(cell["source"], str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return nb


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for path in map(Path, paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        before = len(nb["cells"])
        nb = _as_lines(apply(nb))
        text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(nb['cells']) - before} cells of checks split off")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
