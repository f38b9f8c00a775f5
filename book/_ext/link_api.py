"""Link a chapter's first mention of each `lstmlib` name to the API page (``book/api.md``).

``python book/_ext/link_api.py book/14_new_chapter.ipynb [...]`` rewrites, in the Markdown cells of
each notebook, the first code span per chapter that names a public object of ``lstmlib`` into a
cross-reference, keeping the text the reader sees:

    `unit.memory_pipe`  ->  {py:func}`unit.memory_pipe <lstmlib.memory_pipe>`
    `LSTM.forward`      ->  {py:meth}`LSTM.forward <lstmlib.LSTM.forward>`
    `analysis.ablate`   ->  {py:func}`analysis.ablate <lstmlib.analysis.ablate>`

A name is linked where the API page documents it: at ``lstmlib.<name>`` if the package exports
that very object, else at ``lstmlib.<module>.<name>`` if the module lists it in ``__all__``. Code
spans that name nothing public (``m.params``, ``xs``, ``peephole=False``), code blocks, math and
existing roles are left alone. Running it twice changes nothing.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from pathlib import Path

PACKAGE = "lstmlib"
MODULES = (
    "unit activations layers gru compose train tasks store convert draw interact experiments "
    "analysis variants naive text ngram charlm cells textplots textview"
).split()
SKIP = {"tanh"}  # a bare `tanh` in the text is the function of the equations, not lstmlib's

# An inline code span not already the body of a role (`{py:func}`...``), with a dotted name.
SPAN = re.compile(r"(?<![}`])`((?:lstmlib\.)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`")


REFERENCE = re.compile(r"\{py:\w+\}`(?:[^`<]*<)?([\w.]+)>?`")


def _public(module, name: str) -> bool:
    return name in getattr(module, "__all__", ())


def resolve(text: str) -> tuple[str, str] | None:
    """``(role, target)`` for a code span's text, or None if it names nothing public."""
    if text in SKIP:
        return None
    parts = text.split(".")
    if parts[0] == PACKAGE:
        parts = parts[1:]
    if not parts:
        return None
    package = importlib.import_module(PACKAGE)
    if parts[0] in MODULES and len(parts) >= 2:
        module = importlib.import_module(f"{PACKAGE}.{parts[0]}")
        name, rest = parts[1], parts[2:]
        if not _public(module, name):
            return None
        obj = getattr(module, name)
        if _public(package, name) and getattr(package, name) is obj:
            home = f"{PACKAGE}.{name}"
        else:
            home = f"{PACKAGE}.{parts[0]}.{name}"
    elif _public(package, parts[0]):
        name, rest = parts[0], parts[1:]
        obj, home = getattr(package, name), f"{PACKAGE}.{name}"
    else:
        return None
    if rest:  # a method of a class: LSTM.forward
        if not inspect.isclass(obj) or len(rest) != 1 or not callable(getattr(obj, rest[0], None)):
            return None
        if rest[0].startswith("_"):
            return None
        return "py:meth", f"{home}.{rest[0]}"
    if inspect.isclass(obj):
        return "py:class", home
    if callable(obj):
        return "py:func", home
    return "py:data", home


def link_markdown(text: str, seen: set[str]) -> str:
    """``text`` with the first span of each not-yet-``seen`` target made a reference."""
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or line.lstrip().startswith(("$$", "#")):  # code, math, headings (anchors)
            out.append(line)
            continue

        def replace(match):
            found = resolve(match.group(1))
            if found is None or found[1] in seen:
                return match.group(0)
            role, target = found
            seen.add(target)
            shown = match.group(1)
            body = shown if shown == target else f"{shown} <{target}>"
            return f"{{{role}}}`{body}`"

        out.append(SPAN.sub(replace, line))
    return "".join(out)


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's lstmlib
    for path in map(Path, paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        seen: set[str] = set()
        for cell in nb["cells"]:  # a reference made by hand earlier counts as the first mention
            seen.update(REFERENCE.findall("".join(cell["source"])))
        before = set(seen)
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                text = link_markdown("".join(cell["source"]), seen)
                cell["source"] = text.splitlines(keepends=True)
        text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(seen - before)} names linked to the API page")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
