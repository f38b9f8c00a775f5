"""Sphinx extension: the API reference of lstmlib, generated from the package's own ``__all__``.

``book/api.md`` has one section per module, its heading and opening sentence written by hand, and
in each section the directive (reStructuredText, so in an ``{eval-rst}`` block: the entries it
makes are autodoc's, which are written in reStructuredText) ::

    ```{eval-rst}
    .. lstmlib-module:: lstmlib.unit
    ```

which expands to the module's docstring, a summary table of its public names (the module's
``__all__``) and every name's full entry (autodoc), each with a link to its source (viewcode).

Where a name is documented. A name that the package exports (``lstmlib.__all__``) is documented at
``lstmlib.<name>``, where the chapters link to it (``{py:func}`lstmlib.forget_valve```); the
module's other public names at ``lstmlib.<module>.<name>``. Every object is documented once.

References by another path. A docstring may name an object by the module that defines it
(``:class:`lstmlib.layers.LSTM```) or, inside its module, by its short name
(``:class:`UnitCache```). When Sphinx finds no entry under that path, :func:`_resolve_alias`
imports what the reference names and links to the entry of the same Python object, if there is
one, or to the one entry whose name ends in the reference's. A reference to anything else still
fails the build (``-n``).

Docstrings are written for ``help()``, in plain text: tables of names, a name then its text from a
fixed column or after `` : ``, continued on deeper-indented lines, and numpy-style headings
(``Parameters`` over a row of dashes). :func:`plain_to_rst` turns those tables into definition lists
(the name as code, then its text) and the headings into rubrics, so they render as the author laid
them out instead of as broken reStructuredText. Everything else, literal blocks (after ``::``)
included, is left as written.
"""

from __future__ import annotations

import importlib
import inspect
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "lstmlib"


def _kind(obj) -> str:
    """The autodoc directive that documents ``obj``."""
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _home(module, name: str) -> str:
    """Where ``module.name`` is documented: ``lstmlib`` if the package exports that very object."""
    package = importlib.import_module(PACKAGE)
    exported = name in getattr(package, "__all__", ())
    if exported and getattr(package, name) is getattr(module, name):
        return PACKAGE
    return module.__name__


class LstmlibModule(SphinxDirective):
    """``.. lstmlib-module:: lstmlib.<module>``: the module's docstring, table and entries."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        names = list(getattr(module, "__all__", None) or [])
        if not names:
            raise self.error(f"{modname} has no __all__: the API page documents __all__ only")
        homes = {name: _home(module, name) for name in names}
        lines = [f".. automodule:: {modname}", "", ".. currentmodule:: None", ""]
        lines += [".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {homes[name]}.{name}" for name in names]
        lines.append("")
        for name in names:
            kind = _kind(getattr(module, name))
            lines += [f".. currentmodule:: {homes[name]}", "", f".. {kind}:: {name}"]
            if kind == "autodata":  # the docstring says what it holds; a long repr would not fit
                lines.append("   :no-value:")
            if kind == "autoclass":  # methods, also those of a private base class (_Layer)
                lines += ["   :members:", "   :inherited-members: object, tuple, dict, Exception"]
            lines.append("")
        lines += [f".. currentmodule:: {modname}", ""]
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source=modname), container)
        # viewcode's "[docs]" links from a source page all use the module path of the first entry
        # it saw from that module: #lstmlib.unit.combine for an exported name documented at
        # #lstmlib.combine, or #lstmlib.sigmoid_inplace for a name documented at
        # #lstmlib.activations.sigmoid_inplace. Give each entry the other path as a second id, so
        # that the link lands on it (unless another entry owns that id: an exported name).
        exported = set(getattr(importlib.import_module(PACKAGE), "__all__", ()))
        taken = self.env.temp_data.setdefault("lstmlib_api_ids", set())
        for sig in container.findall(addnodes.desc_signature):
            for id_ in list(sig["ids"]):
                name = id_.rpartition(".")[2]
                if name not in names:
                    continue  # a method or attribute of a class: viewcode links it by its class
                other = f"{modname}.{name}" if id_ == f"{PACKAGE}.{name}" else f"{PACKAGE}.{name}"
                if other not in taken and (other == f"{modname}.{name}" or name not in exported):
                    sig["ids"].append(other)
                    taken.add(other)
        return container.children


def _python_object(target: str, module: str | None, cls: str | None):
    """The object a reference names, tried as written, then inside its module and class."""
    candidates = [target]
    if module:
        candidates += [f"{module}.{cls}.{target}" if cls else "", f"{module}.{target}"]
    for path in filter(None, candidates):
        if not path.startswith(PACKAGE):
            continue
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj
    return None


def _unwrap(target: str, module: str | None = None, cls: str | None = None):
    """:func:`_python_object`, with a bound (class) method as its function: one object."""
    obj = _python_object(target, module, cls)
    return getattr(obj, "__func__", obj)


def _resolve_alias(app, env, node, contnode):
    """``missing-reference``: link to the entry of the same object under its documented name."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    obj = _unwrap(target, node.get("py:module"), node.get("py:class"))
    if isinstance(obj, (int, float, str, tuple, dict, bool)):
        obj = None  # plain values are not unique objects: identity proves nothing
    domain = env.get_domain("py")
    documented = [  # not the aliases autodoc adds (``:canonical:``): each object once
        name
        for name, entry in domain.objects.items()
        if name.startswith(PACKAGE + ".") and not entry.aliased
    ]
    same = [name for name in documented if name.endswith("." + target.rsplit(".", 1)[-1])]
    found = [name for name in same if obj is not None and _unwrap(name) is obj]
    if len(found) > 1 and "." in target:  # a method inherited by several classes: this class's
        parent = _unwrap(target.rsplit(".", 1)[0])
        found = [name for name in found if _unwrap(name.rsplit(".", 1)[0]) is parent]
    if not found:  # a value, or a short name inside its module: the one entry of that name
        found = [name for name in documented if name.endswith("." + target)]
        if f"{PACKAGE}.{target}" in found:  # several: the one the package exports by that name
            found = [f"{PACKAGE}.{target}"]
    if len(found) != 1:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], found[0], node, contnode
    )


# A name column: one name or a comma-separated list (``prev_c, prev_h``, ``**sliders``, ``"f"``).
_NAME = r"(?:\*\*)?[\w\"`.]+(?:, (?:\*\*)?[\w\"`.]+)*"
_ENTRY = re.compile(rf"^(?P<indent> *)(?P<name>{_NAME})(?: {{2,}}| : )(?P<text>\S.*)$")
_BORDER = re.compile(r"^ *=+( +=+)+ *$")  # a border of a simple table: ===  =====  ===
_NAME_ONLY = re.compile(rf"^(?P<indent> *)(?P<name>{_NAME})$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _term(name: str) -> str:
    return name if "`" in name else ", ".join(f"``{n}``" for n in name.split(", "))


def plain_to_rst(lines: list[str]) -> list[str]:
    """A docstring's plain-text tables as definition lists, its numpy headings as rubrics.

    An entry is a line ``name  text`` (two or more spaces) or ``name : text`` (or a name alone)
    followed by lines indented deeper than the name, its continuation. It becomes ``name`` over its
    text, indented; a continuation that starts a list (``- ``) or, after a text without a closing
    mark, a new sentence (a capital) starts a paragraph of its own. Blank lines are added around
    each run of entries, which reStructuredText needs and plain text does not. Literal blocks and
    simple tables (``===  ===``) are left as they are.
    """
    out: list[str] = []
    literal_at = None  # the indent of the paragraph that opened a literal block with "::"
    entries_end = -1  # len(out) just after the last entry written
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.strip() and literal_at is not None and _indent(line) <= literal_at:
            literal_at = None
        if literal_at is not None or not line.strip():
            out.append(line)
            k += 1
            continue
        if _BORDER.match(line):  # a simple table, as written, up to its last border
            end = k + 1
            while end < len(lines) and not (
                _BORDER.match(lines[end]) and (end + 1 == len(lines) or not lines[end + 1].strip())
            ):
                end += 1
            out += lines[k : end + 1]
            k = end + 1
            continue
        pad = " " * _indent(line)
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        if re.fullmatch(r" *-{3,}", nxt) and _indent(nxt) == _indent(line):
            out += ([""] if out and out[-1].strip() else []) + [f"{pad}.. rubric:: {line.strip()}"]
            out.append("")
            k += 2
            continue
        rest = []
        for later in lines[k + 1 :]:
            if not later.strip() or _indent(later) <= _indent(line):
                break
            rest.append(later)
        entry = _ENTRY.match(line)
        if entry is None and rest:
            entry = _NAME_ONLY.match(line)
        if entry is None or line.rstrip().endswith("::"):
            if len(out) == entries_end and out[-1].strip():
                out.append("")  # a paragraph right after a list of entries
            out.append(line)
            if line.rstrip().endswith("::"):
                literal_at = _indent(line)
            k += 1
            continue
        if out and out[-1].strip() and len(out) != entries_end:
            out.append("")  # a list of entries right after a paragraph
        body = [entry["text"]] if "text" in entry.groupdict() else []
        base = min((_indent(r) for r in rest), default=0)
        more = [r[base:] for r in rest]
        if body and more:
            first = more[0]
            if first.startswith("- ") or (first[:1].isupper() and body[-1][-1:] not in ",;:("):
                body.append("")
        out.append(pad + _term(entry["name"]))
        out += [pad + "    " + b if b else "" for b in body + more]
        entries_end = len(out)
        k += 1 + len(rest)
    return out


def _docstring_to_rst(app, what, name, obj, options, lines):
    """``autodoc-process-docstring``: :func:`plain_to_rst`, for lstmlib's objects only."""
    if name.startswith(PACKAGE + ".") or name == PACKAGE:
        lines[:] = plain_to_rst(list(lines))


def _skip_namedtuple_fields(app, what, name, obj, skip, options):
    """``autodoc-skip-member``: a NamedTuple's fields say only "Alias for field number N"; the
    class's own docstring describes them."""
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.autosummary")
    app.setup_extension("sphinx.ext.viewcode")
    app.add_directive("lstmlib-module", LstmlibModule)
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-docstring", _docstring_to_rst)
    app.connect("autodoc-skip-member", _skip_namedtuple_fields)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
