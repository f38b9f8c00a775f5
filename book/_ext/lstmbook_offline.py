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
"""

from __future__ import annotations

import json

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


def setup(app):
    app.connect("config-inited", _use_local_assets, priority=900)
    app.connect("builder-inited", _take_over_mathjax_config, priority=900)
    app.connect("html-page-context", _fix_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
