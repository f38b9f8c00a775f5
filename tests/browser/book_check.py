"""Check a built book the way a reader's browser sees it.

Every HTML page under a folder is served from 127.0.0.1 and opened in headless Chromium. A page
passes when:

- all math is typeset: every ``.math`` element holds MathJax output, MathJax reports no error, and
  no raw TeX is left in the visible text;
- every image has loaded and has non-empty alt text;
- the console shows no error and the page throws nothing;
- no request goes to any host but the local server, and no local request fails;
- every internal link resolves to an existing page and anchor;
- every saved widget renders, and every slider (ipywidgets or the book's kernel-free ones) moves
  when it gets an arrow key and changes what it shows; no live (ipywidgets) widget is shown at all,
  since without a kernel it cannot redraw what it drives;
- axe-core finds no critical or serious accessibility violation;
- on a phone (390 px wide) in the dark theme: nothing is wider than the screen or cut off by its
  box (display math, tables and code scroll inside theirs), and every image sits on a light
  background (the figures are drawn on white); axe-core runs there too.

``python -m tests.browser.book_check _build/html`` prints the problems, one line each, naming the
page; the pytest checks call :func:`check_site`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import http.server
import multiprocessing
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from .chromium import LAUNCH_ARGS, find_chromium

# axe-core, vendored from the npm registry (see vendor/README.md); injected by the checks only.
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

SKIP_PAGES = {"genindex.html", "search.html"}
PAGE_TIMEOUT_MS = 120_000
SKIP_DIRS = {"_sources", "_static", "_images", "vendor", "_downloads"}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# TeX that MathJax should have turned into math. Code, MathJax output and scripts are removed first.
RAW_TEX = re.compile(
    r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(begin|end|frac|sigma|tanh|odot|mathbf|mathrm|left|right|cdot|"
    r"partial|sum|prod|times|alpha|beta|quad|text)\b|\$[A-Za-z\\][^$\n]{0,60}\$"
)

# Collected inside the page: everything a reader would notice is wrong, as plain data.
PAGE_PROBE_JS = r"""
async () => {
  const out = {math: 0, mathUntypeset: [], mathErrors: [], rawTex: "", images: [], links: [],
               ids: [], widgetViews: 0, widgetsRendered: 0};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  document.querySelectorAll(".math").forEach((el) => {
    out.math += 1;
    if (!el.querySelector("mjx-container") && el.tagName !== "MJX-CONTAINER") {
      out.mathUntypeset.push(el.textContent.slice(0, 80));
    }
  });
  document.querySelectorAll("mjx-merror, .MathJax_Error, [data-mjx-error]").forEach((el) => {
    out.mathErrors.push((el.getAttribute("data-mjx-error") || el.textContent).slice(0, 80));
  });
  const main = (document.querySelector("main") || document.body).cloneNode(true);
  // A signature (dt.sig) is code too: names and default values as written in Python.
  main.querySelectorAll("pre, code, script, style, mjx-container, .highlight, textarea, dt.sig")
    .forEach((el) => el.remove());
  out.rawTex = main.textContent;
  document.querySelectorAll("img").forEach((img) => {
    out.images.push({src: img.getAttribute("src") || "",
                     alt: (img.getAttribute("alt") || "").trim(),
                     loaded: img.complete && img.naturalWidth > 0,
                     visible: img.getClientRects().length > 0});
  });
  document.querySelectorAll("a[href]").forEach((a) => out.links.push(a.href));
  document.querySelectorAll("[id]").forEach((el) => out.ids.push(el.id));
  out.widgetViews = document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]').length;
  out.widgetsRendered = document.querySelectorAll(".jupyter-widgets.widget-container, " +
    ".jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-inline-vbox, " +
    ".jupyter-widgets.widget-box, .jupyter-widgets.widget-hbox, .jupyter-widgets.widget-vbox, " +
    ".widget-subarea > .jupyter-widgets").length;
  return out;
}
"""


# Accessibility: axe-core's violations of impact "critical" or "serious", one entry per rule.
AXE_JS = """
async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                  target: v.nodes[0].target.join(" "), html: v.nodes[0].html.slice(0, 100)}));
}
"""

# On a phone: content cut off by a box that does not scroll, content wider than the screen, and
# images whose background (their own, or the first painted one behind them) is dark.
LAYOUT_PROBE_JS = r"""
() => {
  const out = {pageWidth: document.documentElement.scrollWidth, screen: window.innerWidth,
               clipped: [], tooWide: [], darkImages: []};
  // The article: the theme's own navigation (e.g. the next-page arrow) is not content.
  const main = document.querySelector(".bd-article") || document.querySelector("main") ||
    document.body;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].slice(0, 2).join(".") : "");
  const content = main.querySelectorAll(
    "mjx-container, table, pre, img, svg:not(mjx-container svg), video, canvas, iframe");
  for (const el of content) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest("details:not([open])")) continue;
    let box = el.parentElement, verdict = null;
    for (; box && box !== document.documentElement; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === "auto" || overflow === "scroll") { verdict = "scrolls"; break; }
      if (overflow === "hidden" || overflow === "clip") {
        const b = box.getBoundingClientRect();
        if (r.right > b.right + 1 || r.left < b.left - 1) verdict = "clipped";
        else verdict = "fits";
        break;
      }
    }
    if (verdict === "clipped") {
      out.clipped.push(`${describe(el)} (${Math.round(r.width)} px) in ${describe(box)}`);
    } else if (verdict === null && r.right > window.innerWidth + 1) {
      out.tooWide.push(`${describe(el)} (${Math.round(r.width)} px)`);
    }
  }
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => v / 255).map((v) =>
      v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  for (const img of main.querySelectorAll("img")) {
    if (img.getClientRects().length === 0) continue;
    let el = img, colour = null;
    for (; el; el = el.parentElement) {
      const m = getComputedStyle(el).backgroundColor.match(/[\d.]+/g);
      if (m && (m.length < 4 || Number(m[3]) > 0.5)) { colour = m.slice(0, 3).map(Number); break; }
    }
    if (colour === null || luminance(colour) < 0.7) {
      out.darkImages.push((img.getAttribute("src") || "").slice(0, 60));
    }
  }
  return out;
}
"""


@dataclass
class PageReport:
    page: str
    problems: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.problems.append(f"{self.page}: {message}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the checks report failures themselves
        pass


@contextlib.contextmanager
def serve(root: Path):
    """Serve ``root`` on 127.0.0.1 at a free port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def html_pages(root: Path) -> list[Path]:
    """The reader-facing pages of a built book (not indexes, sources or vendored files)."""
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP_DIRS or rel.name in SKIP_PAGES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if 'http-equiv="Refresh"' in text or "http-equiv='refresh'" in text.lower():
            continue  # the root index.html is a redirect to the first page
        pages.append(path)
    return pages


def _check_links(report, links, root: Path, base: str, ids_by_page: dict):
    for href in links:
        url, fragment = urldefrag(href)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not href.startswith(base):
            continue  # outside links are links, not requests: the checks never follow them
        target = root / unquote(parsed.path.removeprefix(urlparse(base).path))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            report.add(f"broken link to {href.removeprefix(base)} (no such file)")
            continue
        if fragment and target.suffix == ".html":
            ids = ids_by_page.get(target)
            if ids is None:
                ids = set(re.findall(r'id="([^"]+)"', target.read_text(encoding="utf-8")))
                ids_by_page[target] = ids
            if unquote(fragment) not in ids:
                report.add(f"broken link to {href.removeprefix(base)} (no anchor #{fragment})")


def _check_sliders(page, report):
    """Every slider must move on an arrow key and change what it drives."""
    # ipywidgets sliders (noUiSlider handles) show their value in a readout.
    handles = page.locator(".jupyter-widgets .noUi-handle")
    for k in range(handles.count()):
        slider = handles.nth(k)
        box = slider.locator("xpath=ancestor::div[contains(@class,'widget-slider')][1]")
        readout = box.locator(".widget-readout")
        before = readout.first.text_content() if readout.count() else None
        slider.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
        after = readout.first.text_content() if readout.count() else None
        if before is None or before == after:
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(100)
            after = readout.first.text_content() if readout.count() else None
        if before is None or before == after:
            report.add(f"ipywidgets slider {k + 1} does not respond to arrow keys")
    # The book's kernel-free sliders: a range input that swaps the frame it shows.
    ranges = page.locator("input[type=range]")
    for k in range(ranges.count()):
        rng = ranges.nth(k)
        figure = rng.locator("xpath=ancestor::*[@data-lstm-frames][1]")
        shown = figure.locator("img:visible").first if figure.count() else None
        before = (rng.input_value(), shown.get_attribute("src") if shown else None)
        rng.focus()
        key = "ArrowLeft" if rng.input_value() == rng.get_attribute("max") else "ArrowRight"
        page.keyboard.press(key)
        page.wait_for_timeout(50)
        shown = figure.locator("img:visible").first if figure.count() else None
        after = (rng.input_value(), shown.get_attribute("src") if shown else None)
        if before[0] == after[0]:
            report.add(f"range slider {k + 1} does not respond to arrow keys")
        elif shown is not None and before[1] == after[1]:
            report.add(f"range slider {k + 1} moves but the figure it drives does not change")


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def _check_accessibility(page, report, where: str):
    page.add_script_tag(content=_axe_source())
    for v in page.evaluate(AXE_JS):
        report.add(
            f"accessibility ({where}, {v['impact']}): {v['id']}: {v['help']}; {v['count']} "
            f"element(s), first {v['target']!r}: {v['html']!r}"
        )


def _check_phone_in_dark_theme(page, report):
    """Re-check the open page as a phone in the dark theme shows it."""
    page.set_viewport_size(PHONE)
    page.evaluate(
        "() => { document.documentElement.dataset.theme = 'dark';"
        " document.documentElement.dataset.mode = 'dark'; }"
    )
    page.wait_for_timeout(400)  # the theme marks scrollable boxes focusable 300 ms after a resize
    layout = page.evaluate(LAYOUT_PROBE_JS)
    if layout["pageWidth"] > layout["screen"] + 1:
        report.add(
            f"at {PHONE['width']} px the page scrolls sideways ({layout['pageWidth']} px wide)"
        )
    for text in layout["clipped"]:
        report.add(f"at {PHONE['width']} px content is cut off: {text}")
    for text in layout["tooWide"]:
        report.add(f"at {PHONE['width']} px content is wider than the screen: {text}")
    for src in layout["darkImages"]:
        report.add(f"image on a dark background in the dark theme: {src}")
    _check_accessibility(page, report, f"{PHONE['width']} px, dark theme")


def check_page(page, url: str, report: PageReport, base: str, root: Path, ids_by_page: dict):
    console_errors, page_errors, outside, failed = [], [], [], []

    def on_console(msg):
        if msg.type == "error":
            console_errors.append(msg.text)

    def on_response(response):
        if response.status >= 400:
            failed.append(f"{response.status} {response.url.removeprefix(base)}")

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith("data:") or host in LOCAL_HOSTS:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("response", on_response)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url.removeprefix(base)}"))
    page.route("**/*", route)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    probe = page.evaluate(PAGE_PROBE_JS)
    page.wait_for_timeout(200)

    for text in probe["mathUntypeset"]:
        report.add(f"math not typeset: {text!r}")
    for text in probe["mathErrors"]:
        report.add(f"MathJax error: {text!r}")
    for match in RAW_TEX.finditer(probe["rawTex"]):
        context = probe["rawTex"][max(0, match.start() - 30) : match.end() + 30]
        report.add(f"raw TeX left in the text: {' '.join(context.split())!r}")
        break
    for img in probe["images"]:
        name = img["src"][:60]
        if not img["loaded"]:
            report.add(f"image not loaded: {name}")
        if not img["alt"] or re.search(r"\.(png|jpe?g|svg|gif)$", img["alt"]):
            report.add(f"image without alt text: {name}")  # a file name is no description
    if probe["widgetViews"]:
        report.add(
            f"{probe['widgetViews']} live ipywidgets widget(s) shown: without a kernel they "
            "cannot redraw what they drive (tag the cell remove-cell; the kernel-free slider stays)"
        )
    if probe["widgetViews"] and probe["widgetsRendered"] < probe["widgetViews"]:
        report.add(
            f"{probe['widgetViews'] - probe['widgetsRendered']} of {probe['widgetViews']} "
            "widgets did not render"
        )
    _check_links(report, probe["links"], root, base, ids_by_page)
    _check_sliders(page, report)
    _check_accessibility(page, report, f"{DESKTOP['width']} px, light theme")
    _check_phone_in_dark_theme(page, report)
    for text in console_errors:
        report.add(f"console error: {text[:200]}")
    for text in page_errors:
        report.add(f"script error: {text[:200]}")
    for request in sorted(set(outside)):
        report.add(f"request to an outside host: {request[:120]}")
    for request in sorted(set(failed)):
        if not any(request.endswith(o[:60]) for o in outside):
            report.add(f"request failed: {request[:120]}")


def _check_pages(root: Path, pages: list[Path]) -> list[str]:
    """Open ``pages`` of the site under ``root`` one after the other; return their problems."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    ids_by_page: dict = {}
    with serve(root) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        try:
            for path in pages:
                rel = path.relative_to(root).as_posix()
                report = PageReport(rel)
                context = browser.new_context(viewport=DESKTOP)
                # Generous: the API page and a loaded CI machine can take tens of seconds.
                context.set_default_timeout(PAGE_TIMEOUT_MS)
                page = context.new_page()
                try:
                    check_page(page, base + rel, report, base, root, ids_by_page)
                except PlaywrightError as exc:  # a page that cannot be checked is a problem too
                    report.add(f"could not be checked: {str(exc).splitlines()[0][:200]}")
                finally:
                    context.close()
                problems.extend(report.problems)
        finally:
            browser.close()
    return problems


def check_site(
    root: Path | str, pages: list[Path] | None = None, workers: int | None = None
) -> list[str]:
    """Open every page of the built site under ``root``; return the problems found (or none).

    The pages are shared among ``workers`` processes, each with its own server and browser
    (default: ``$LSTMBOOK_BROWSER_WORKERS``, else 2, or 1 on a single core): axe-core takes
    seconds a page, and the checks must stay quick enough for CI.
    """
    root = Path(root).resolve()
    if not (root / "index.html").exists() and pages is None:
        return [f"{root}: no index.html (build the book first)"]
    pages = html_pages(root) if pages is None else pages
    if workers is None:
        workers = int(os.environ.get("LSTMBOOK_BROWSER_WORKERS", min(2, os.cpu_count() or 1)))
    workers = max(1, min(workers, len(pages)))
    if workers == 1:
        return _check_pages(root, pages)
    shares = [pages[k::workers] for k in range(workers)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked Playwright
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        found = list(pool.map(_check_pages, [root] * workers, shares))
    by_page = {path.relative_to(root).as_posix(): [] for path in pages}
    for problems in found:
        for line in problems:
            by_page[line.split(": ", 1)[0]].append(line)
    return [line for lines in by_page.values() for line in lines]


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "_build/html")
    problems = check_site(root)
    for line in problems:
        print(line)
    print(f"{len(html_pages(root))} pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
