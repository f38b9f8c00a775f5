"""Sphinx extension: the built book reads correctly with no network.

Jupyter Book 1.x loads MathJax, RequireJS and the ipywidgets HTML manager from CDNs by default.
This extension points all three at copies served from the book itself (``book/_extra/vendor``,
copied to ``_build/html/vendor`` through ``html_extra_path``), and fixes three things that
otherwise log errors in the browser console:

1. ``@jupyter-widgets/html-manager`` 1.x typesets widget labels with the MathJax 2 call
   ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])``, which MathJax 3 does not have. The
   MathJax configuration below gives MathJax 3 that one call, mapped onto ``typesetPromise``; calls
   made before MathJax has finished loading are queued and typeset once it is ready.
2. sphinx-thebe registers its inline configuration script twice on some pages, and the second copy
   throws "Identifier 'THEBE_JS_URL' has already been declared". Each page's script list is
   de-duplicated (the book does not use Thebe; the script is inert).
3. pydata-sphinx-theme reads a default colour mode from the page context; without one it logs "Got
   invalid theme mode". The book declares ``light`` as its default (readers can still switch).

Two more things make the pages read well:

4. Tooling comments in code cells are for tools, not readers: ``# NBVAL_IGNORE_OUTPUT`` (nbval
   needs it in the notebook) and ``# fmt: skip`` (ruff's formatter) are taken out of the code the
   HTML shows. The notebooks keep them.
5. ``static/lstmbook.css``: on a narrow screen, display math, tables and code scroll inside their
   own box instead of being cut off; in the dark theme, figures sit on a light card.
6. Accessible names (axe-core's rule "label-content-name-mismatch": a control's name must contain
   the text it shows). myst-nb labels every "Show the checks" toggle "Toggle hidden content"; the
   label is dropped so that the toggle's own text names it. The theme's search buttons are named
   "Search" but also show "Ctrl+K", and its colour-mode button's icons carry titles of their own:
   ``A11Y_JS`` lets the search buttons' text name them and takes the titles off the icons. And the
   bibliography's citation list loses a ``role="list"`` that its entries do not fit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes

# Sphinx resolves script paths relative to ``_static/``; the vendored tree sits beside it.
VENDOR = "../vendor"
MATHJAX = f"{VENDOR}/mathjax/tex-chtml.js"
REQUIREJS = f"{VENDOR}/requirejs/require.js"
HTML_MANAGER = f"{VENDOR}/npm/@jupyter-widgets/html-manager/dist/embed-amd.js"

# Runs in the browser before MathJax 3 loads. ``{config}`` is the JSON configuration that Sphinx and
# MyST built; the startup hook adds the MathJax 2 ``Hub.Queue`` call (see the module docstring).
MATHJAX_CONFIG_JS = """
(function () {
  var pending = [];
  var config = %(config)s;
  config.startup = config.startup || {};
  config.startup.ready = function () {
    MathJax.startup.defaultReady();
    MathJax.Hub = {
      Queue: function (command) {
        var element = command && command[2];
        return MathJax.typesetPromise(element ? [element] : undefined);
      }
    };
    MathJax.startup.promise.then(function () {
      if (pending.length) { return MathJax.typesetPromise(pending.splice(0)); }
    });
  };
  // Until MathJax 3 replaces window.MathJax, widgets may already call Hub.Queue: queue them.
  config.Hub = {
    Queue: function (command) { if (command && command[2]) { pending.push(command[2]); } }
  };
  window.MathJax = config;
})();
"""


# The manager's two bundles find their fonts next to the URL RequireJS gives their AMD module:
# resolve both module names to the real file's folder in the vendored npm tree.
REQUIRE_CONFIG = """require.config({baseUrl: "%s", paths: {
  "@jupyter-widgets/html-manager": "@jupyter-widgets/html-manager/dist/embed-amd",
  "@jupyter-widgets/html-manager/dist": "@jupyter-widgets/html-manager/dist"}});"""


def _use_local_assets(app, config):
    """Point MathJax and the widget scripts at the vendored copies (runs at config-inited)."""
    config.mathjax_path = MATHJAX
    config.nb_ipywidgets_js = {
        REQUIREJS: {},
        # The manager loads its fonts, and any widget package it does not bundle, from
        # ``<cdn>/<package>/dist/``: the CDN is our vendored tree, set per page in _fix_scripts.
        HTML_MANAGER: {"data-jupyter-widgets-cdn": "vendor/npm/"},
    }
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _take_over_mathjax_config(app):
    """Emit the MathJax configuration ourselves, with the MathJax 2 compatibility hook.

    Runs after MyST has added its ``processHtmlClass`` settings (builder-inited, late priority).
    """
    mathjax_config = dict(app.config.mathjax3_config or {})
    app.config.mathjax3_config = None  # Sphinx would emit a plain JSON copy without the hook
    app.config.mathjax_options = {**(app.config.mathjax_options or {}), "defer": "defer"}
    body = MATHJAX_CONFIG_JS % {"config": json.dumps(mathjax_config, sort_keys=True)}
    app.add_js_file(None, body=body, priority=200)


def _fix_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated scripts (same file and same inline body) from a page's script list, and make
    the widget manager's CDN address relative to this page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    npm = context["pathto"]("vendor/npm/", 1)
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", None)
        if attributes and "data-jupyter-widgets-cdn" in attributes:
            attributes = {**attributes, "data-jupyter-widgets-cdn": npm}
            script = type(script)(script.filename, priority=script.priority, **attributes)
            # RequireJS resolves the manager's modules (and so its fonts) from the same tree.
            unique.append(type(script)(None, priority=script.priority, body=REQUIRE_CONFIG % npm))
        filename = getattr(script, "filename", script)
        body = "" if isinstance(script, str) else script.attributes.get("body", "")
        key = (str(filename or ""), body)
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    scripts[:] = unique


# Comments that only tools read: a line that is nothing but the nbval marker, and ruff's trailing
# ``# fmt: skip``. (Anything else in a comment is for the reader and stays.)
NBVAL_LINE = re.compile(r"^[ \t]*# NBVAL_IGNORE_OUTPUT[ \t]*\n?", re.MULTILINE)
FMT_SKIP = re.compile(r"[ \t]*# fmt: skip[ \t]*$", re.MULTILINE)
STATIC = Path(__file__).resolve().parent / "static"


def strip_tooling_comments(code: str) -> str:
    """The code a reader sees: ``code`` without the nbval marker lines and ``# fmt: skip``."""
    return FMT_SKIP.sub("", NBVAL_LINE.sub("", code))


def _strip_tooling_comments(app, doctree):
    """Rewrite every notebook code cell's source block in the doctree (runs at doctree-read)."""
    for container in doctree.findall(nodes.container):
        if container.get("nb_element") != "cell_code_source":
            continue
        for block in container.findall(nodes.literal_block):
            code = block.astext()
            shown = strip_tooling_comments(code)
            if shown != code:
                # Sphinx highlights ``rawsource`` only when it equals the text: keep both in step.
                block.rawsource = shown
                block.children = [nodes.Text(shown)]


def _add_stylesheet(app, config):
    """Serve ``static/lstmbook.css`` with the book and link it from every page (config-inited)."""
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    app.add_css_file("lstmbook.css")


# myst-nb's toggle for hidden cell parts (``hide-input``): its aria-label hides the visible text.
MYSTNB_SUMMARY = '<summary aria-label="Toggle hidden content">'
# The bibliography's list claims role="list", but its entries are not list items (axe-core:
# "aria-required-children", critical). Without the role it is a plain group of citations.
CITATION_LIST = '<div role="list" class="citation-list">'

# Runs in the browser once the page is parsed (the theme's buttons come from its templates).
A11Y_JS = """
document.addEventListener("DOMContentLoaded", function () {
  // The search field shows "Search Ctrl+K": let that text name it, not a shorter label.
  document.querySelectorAll(".search-button-field[aria-label]").forEach(function (el) {
    el.removeAttribute("aria-label");
  });
  // The colour-mode button is named "Color mode"; its icons' titles would add other words. Font
  // Awesome swaps each <i title> for an <svg><title>, whenever its script runs: watch for that.
  var untitle = function (button) {
    button.querySelectorAll("i[title], svg").forEach(function (icon) {
      icon.setAttribute("aria-hidden", "true");
      icon.removeAttribute("title");
      icon.removeAttribute("aria-labelledby");
      icon.querySelectorAll("title").forEach(function (t) { t.remove(); });
    });
  };
  document.querySelectorAll(".theme-switch-button").forEach(function (button) {
    untitle(button);
    new MutationObserver(function () { untitle(button); })
      .observe(button, {childList: true, subtree: true});
  });
});
"""


def _fix_accessible_names(app, pagename, templatename, context, doctree):
    """Let each "Show the checks" toggle be named by its own text, and the bibliography be a
    plain group (html-page-context)."""
    if "body" in context:
        body = context["body"].replace(MYSTNB_SUMMARY, "<summary>")
        context["body"] = body.replace(CITATION_LIST, '<div class="citation-list">')


def setup(app):
    app.add_js_file(None, body=A11Y_JS, priority=900)
    app.connect("html-page-context", _fix_accessible_names)
    app.connect("config-inited", _use_local_assets, priority=900)
    app.connect("config-inited", _add_stylesheet, priority=900)
    app.connect("doctree-read", _strip_tooling_comments)
    app.connect("builder-inited", _take_over_mathjax_config, priority=900)
    app.connect("html-page-context", _fix_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
