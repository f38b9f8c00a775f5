"""The PDF edition (``make pdf``, :mod:`tests.browser.pdf`): the whole built book in one PDF, in
the order of the table of contents, with its math typeset and its figures.

Marked ``browser``: ``make test`` runs it after the book build. The book is printed once, from
_build/html, into a temporary folder; each page's text is extracted while Chromium prints the
next one.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser.pdf import PDF_NAME, join, print_pages, toc_pages

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"

pytestmark = pytest.mark.browser

# TeX that MathJax should have typeset: none of it may reach the printed text.
RAW_TEX = re.compile(
    r"\$\$|\\\(|\\\[|\\(frac|mathbf|mathrm|begin\{|end\{|sigma|tanh|odot|left|right|partial|sum)\b"
)


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _images(page) -> int:
    """Image XObjects drawn on a PDF page (a figure printed by Chromium is one)."""
    resources = page.get("/Resources") or {}
    xobjects = resources.get("/XObject") or {}
    return sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    from pypdf import PdfReader

    assert (SITE / "index.html").exists(), "build the book first (make book)"
    files = toc_pages()
    printed, texts = [], []
    with ThreadPoolExecutor(max_workers=1) as extract:
        for page in print_pages(SITE, files):
            printed.append(page)
            texts.append(extract.submit(_text, page.pdf))
        texts = [t.result() for t in texts]
    out = join(printed, tmp_path_factory.mktemp("pdf") / PDF_NAME, "The LSTM unit")
    return files, printed, texts, PdfReader(out)


def test_every_page_of_the_toc_is_in_the_pdf_in_order_with_its_title(book):
    files, printed, texts, reader = book
    assert [p.file for p in printed] == files
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert [title for title, _ in outline] == [p.title for p in printed]
    starts = [start for _, start in outline]
    assert starts == sorted(set(starts)), "a page of the toc printed no PDF page"
    for page, (title, start) in zip(printed, outline, strict=True):
        # The title as printed on the page's first PDF page (without "3." numbering, which the
        # theme draws with CSS counters that text extraction may not see).
        heading = " ".join(re.sub(r"^\d+\.\s*", "", title).split())
        first = " ".join(reader.pages[start].extract_text().split())
        assert heading in first, f"{page.file}: {heading!r} not on its first PDF page"


def test_no_raw_tex_is_left_in_the_printed_text(book):
    # TeX in code (a matplotlib label r"$\\sigma(z)$") is code and prints as such: every TeX-like
    # string of a page's printed text must be one its code shows.
    files, printed, texts, reader = book
    assert sum(p.math for p in printed) > 100, "hardly any math typeset: is MathJax loading?"
    for page, text in zip(printed, texts, strict=True):
        found = Counter(m.group() for m in RAW_TEX.finditer(text))
        raw = found - Counter(m.group() for m in RAW_TEX.finditer(page.code))
        where = [text[max(0, m.start() - 40) : m.end() + 40] for m in RAW_TEX.finditer(text)]
        where = [" ".join(w.split()) for w in where if any(r in w for r in raw)]
        assert not raw, f"{page.file}: raw TeX in the PDF: {dict(raw)}, e.g. {where[:1]}"


def test_every_figure_is_printed(book):
    files, printed, texts, reader = book
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    ends = starts[1:] + [len(reader.pages)]
    assert sum(p.images for p in printed) >= 20, "hardly any figures: were the images loaded?"
    for page, start, end in zip(printed, starts, ends, strict=True):
        drawn = sum(_images(reader.pages[k]) for k in range(start, end))
        assert drawn >= page.images, f"{page.file}: {page.images} images shown, {drawn} printed"
