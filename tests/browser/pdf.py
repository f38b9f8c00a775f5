"""The PDF edition: the built HTML book printed by headless Chromium, one PDF in reading order.

    python -m tests.browser.pdf _build/html [--out _build/html/lstm-unit-book.pdf]

(``make pdf`` builds the book first if there is none, then runs this.) Nothing is executed again:
the pages are those of ``_build/html``, with their stored outputs and figures. Each page of
``_toc.yml``, in its order, is served from 127.0.0.1 (no other host reachable), opened, left until
MathJax has typeset all its math, and printed to A4 with a print stylesheet (:data:`PRINT_CSS`:
no navigation, sidebars, buttons or search, code wrapped instead of cut); the pages are then
joined with pypdf, with a bookmark per page of the table of contents and the book's title in the
metadata. Collapsed cells (the checks, the set-up) stay collapsed, as a reader of the HTML first
sees them.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from .book_check import serve
from .chromium import LAUNCH_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[2]
PDF_NAME = "lstm-unit-book.pdf"

# Added to every page before it is printed (on top of the theme's own print rules).
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-header-announcement, .bd-sidebar-primary, .bd-sidebar-secondary,
.header-article-items, .bd-header-article, .prev-next-area, .prev-next-footer, .bd-footer,
.bd-footer-article, .bd-footer-content, .footer-items__start, .search-button-field,
#pst-skip-link, .skip-link, .headerlink, .copybtn { display: none !important; }
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container, .bd-article {
  max-width: none !important; width: 100% !important; margin: 0 !important; padding: 0 !important;
}
html, body { background: white !important; }
pre, .highlight pre {
  white-space: pre-wrap !important; word-break: break-word; overflow: visible !important;
}
img { max-width: 100% !important; break-inside: avoid; }
figure, .cell_output, table, mjx-container[display="true"] { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
"""

# Resolves once MathJax has typeset everything on the page (or at once on a page without it).
TYPESET_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  await Promise.all(Array.from(document.images).map((img) => img.complete ? null :
    new Promise((done) => { img.onload = img.onerror = done; })));
  document.documentElement.dataset.theme = "light";
  document.documentElement.dataset.mode = "light";
  return document.querySelectorAll("mjx-container").length;
}
"""

# How many different images a reader sees in print (a kernel-free slider shows one frame).
IMAGES_JS = """
() => new Set(Array.from(document.querySelectorAll("main img"))
  .filter((img) => img.getClientRects().length > 0 && img.naturalWidth > 0)
  .map((img) => img.currentSrc || img.src)).size
"""

CODE_JS = """
() => Array.from(document.querySelectorAll("main pre, main code")).map((el) => el.textContent)
  .join("\\n")
"""

FOOTER = (
    '<div style="font-size: 8px; width: 100%; padding: 0 14mm; color: #555; '
    'font-family: sans-serif; display: flex; justify-content: space-between;">'
    '<span class="title"></span><span><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></span></div>'
)


@dataclass
class PrintedPage:
    file: str  # the toc entry, e.g. "book/03_forget_valve"
    title: str  # the page's title as the browser shows it
    pdf: bytes
    math: int  # how many math elements MathJax typeset
    images: int  # how many different images the page shows (hidden slider frames not counted)
    code: str  # the text of its code cells and outputs, as shown (TeX there is code, not math)


def toc_pages(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """The book's pages in reading order: the root, then every part's chapters."""
    data = yaml.safe_load(toc.read_text())
    files = [data["root"]]
    for part in data.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def print_pages(site: Path, files: list[str]) -> Iterator[PrintedPage]:
    """Open each page of the built ``site`` in headless Chromium and print it to PDF bytes,
    yielding each page as soon as it is printed."""
    from playwright.sync_api import sync_playwright

    site = site.resolve()
    missing = [f for f in files if not (site / f"{f}.html").exists()]
    if missing:
        raise FileNotFoundError(f"pages missing from {site} (build the book first): {missing}")
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 1400})
            context.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith(base) else r.abort(),
            )
            page = context.new_page()
            for file in files:
                page.goto(f"{base}{file}.html", wait_until="load")
                math = page.evaluate(TYPESET_JS)
                page.add_style_tag(content=PRINT_CSS)
                page.emulate_media(media="print", color_scheme="light")
                images = page.evaluate(IMAGES_JS)
                code = page.evaluate(CODE_JS)
                title = page.title().split("\u2014")[0].strip()
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    prefer_css_page_size=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                )
                yield PrintedPage(file, title, pdf, math, images, code)
        finally:
            browser.close()


def join(printed: list[PrintedPage], out: Path, title: str) -> Path:
    """One PDF of the printed pages, in order, with a bookmark at the start of each."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in printed:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(page.pdf)), import_outline=False)
        writer.add_outline_item(title=page.title, page_number=start)
    writer.add_metadata({"/Title": title, "/Author": "The LSTM-unit book authors"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        writer.write(f)
    return out


def build_pdf(site: Path, out: Path, toc: Path = ROOT / "_toc.yml") -> list[PrintedPage]:
    """Print every page of the toc from the built ``site`` into one PDF at ``out``."""
    printed = list(print_pages(site, toc_pages(toc)))
    config = yaml.safe_load((toc.parent / "_config.yml").read_text())
    join(printed, out, config.get("title", "The LSTM unit, valve by valve"))
    return printed


def main(argv: list[str] | None = None) -> int:
    from pypdf import PdfReader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, nargs="?", default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=None, help=f"default: SITE/{PDF_NAME}")
    args = parser.parse_args(argv)
    out = args.out or args.site / PDF_NAME
    printed = build_pdf(args.site, out)
    pages = len(PdfReader(out).pages)
    size = out.stat().st_size / 2**20
    print(f"{out}: {len(printed)} pages of the toc, {pages} PDF pages, {size:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
