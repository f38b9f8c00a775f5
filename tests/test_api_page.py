"""The API reference page (book/api.md): every public name of lstmlib documented where the
chapters link to it, each function and class with a link to its source.

The test of the built page is marked ``build``: ``make test`` runs it right after it has built the
book into _build/html. The one on api.md itself needs no build.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import re
import sys
from html import unescape
from pathlib import Path

import pytest

import lstmlib

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from lstmlib_api import plain_to_rst  # noqa: E402  (the book's Sphinx extension)


def _modules() -> list[str]:
    """lstmlib's public modules: every ``lstmlib.<name>`` whose name has no leading underscore."""
    return sorted(
        f"lstmlib.{m.name}"
        for m in pkgutil.iter_modules(lstmlib.__path__)
        if not m.name.startswith("_")
    )


def _documented_names() -> dict[str, object]:
    """Where each public object should be documented: ``lstmlib.<name>`` for what the package
    exports, ``lstmlib.<module>.<name>`` for the rest of each module's ``__all__``."""
    names = {f"lstmlib.{name}": getattr(lstmlib, name) for name in lstmlib.__all__}
    for modname in _modules():
        module = importlib.import_module(modname)
        for name in module.__all__:
            obj = getattr(module, name)
            exported = name in lstmlib.__all__ and getattr(lstmlib, name) is obj
            if not exported:
                names[f"{modname}.{name}"] = obj
    return names


def _rst_problems(lines: list[str]) -> str:
    """What docutils complains about when it parses ``lines`` as reStructuredText."""
    from docutils.core import publish_doctree

    stream = io.StringIO()
    publish_doctree("\n".join(lines), settings_overrides={"warning_stream": stream})
    return stream.getvalue()


DOCSTRING = """One step of something.

prev_c, prev_h  (H,) or (B, H), the same shape (checked even when
                peephole=False leaves it out).
x               (D,) or (B, D).
Returns h.

Parameters
----------
t : array (T,) or None
    Time steps; None means 0 .. T-1.
data : the batches, one of
    - a list of batches;
    - a function step -> batch.

Done like this::

    h, c = step(c, h, x)
    x  y  stays as it is

===  ====================
1    a simple table, kept
===  ===================="""


def test_plain_text_tables_of_names_become_definition_lists_that_parse_cleanly():
    before = DOCSTRING.splitlines()
    assert _rst_problems(before), "the plain text should not parse cleanly as it is"
    after = plain_to_rst(before)
    assert not _rst_problems(after), _rst_problems(after)
    text = "\n".join(after)
    assert "``prev_c``, ``prev_h``\n    (H,) or (B, H), the same shape" in text
    assert "    peephole=False leaves it out).\n``x``\n    (D,) or (B, D).\n\nReturns h." in text
    assert ".. rubric:: Parameters" in text and "----------" not in text
    assert "``t``\n    array (T,) or None\n\n    Time steps;" in text  # a new sentence
    assert "``data``\n    the batches, one of\n\n    - a list of batches;" in text


def test_literal_blocks_and_tables_are_left_as_written():
    after = "\n".join(plain_to_rst(DOCSTRING.splitlines()))
    assert "::\n\n    h, c = step(c, h, x)\n    x  y  stays as it is\n" in after
    assert "===  ====================\n1    a simple table, kept\n===" in after


def test_every_public_module_has_a_section_on_the_api_page():
    page = (ROOT / "book" / "api.md").read_text()
    listed = re.findall(r"^\.\. lstmlib-module:: (\S+)$", page, flags=re.MULTILINE)
    assert sorted(listed) == sorted(set(listed)), "a module is listed twice"
    missing = sorted(set(_modules()) - set(listed))
    assert not missing, f"add a section to book/api.md for {missing}"
    for modname in _modules():
        assert importlib.import_module(modname).__all__, f"{modname}: no __all__"


@pytest.mark.build
def test_the_built_api_page_documents_every_public_name_with_a_link_to_its_source():
    page = SITE / "book" / "api.html"
    assert page.exists(), "build the book first (make book)"
    html = page.read_text(encoding="utf-8")
    entries = dict(re.findall(r'<dt class="sig[^"]*" id="([^"]+)">(.*?)</dt>', html, re.DOTALL))
    missing, no_source = [], []
    for target, obj in _documented_names().items():
        if target not in entries:
            missing.append(target)
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # a constant: documented with its value; Sphinx links no source to data
        module = obj.__module__.replace(".", "/")
        link = re.search(rf'href="\.\./_modules/{module}\.html#([^"]+)"', entries[target])
        source = SITE / "_modules" / f"{module}.html"
        if link is None or not source.exists():
            no_source.append(target)
            continue
        anchor = unescape(link.group(1))
        if f'id="{anchor}"' not in source.read_text(encoding="utf-8"):
            no_source.append(f"{target} (no #{anchor} in {source.name})")
    assert not missing, f"not documented on the API page: {missing}"
    assert not no_source, f"documented without a link to its source: {no_source}"
