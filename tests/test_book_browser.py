"""The built book in a real browser (headless Chromium), as a reader sees it.

Marked ``browser``: ``make test`` runs these after the book build. They never skip for want of a
browser: with no Chromium at all they fail and say how to get one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.book_check import check_site, html_pages

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

pytestmark = pytest.mark.browser


def test_every_page_of_the_book_reads_correctly_in_a_browser():
    site = ROOT / "_build" / "html"
    assert (site / "index.html").exists(), "build the book first (make book)"
    assert len(html_pages(site)) >= 10, "fewer pages than chapters: is the build complete?"
    problems = check_site(site)
    assert not problems, "problems found in the built book:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def broken_build(tmp_path_factory) -> Path:
    """The fixture pages, built: the folder of their HTML."""
    out = tmp_path_factory.mktemp("broken_pages")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(FIXTURES / "broken_pages")]
    command += ["--path-output", str(out), "--all", "-n", "--keep-going"]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def broken_site(broken_build):
    return check_site(broken_build)


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ("raw_tex.html", "raw TeX left in the text"),
        ("missing_image.html", "image not loaded: nowhere/valve.png"),
        ("no_alt.html", "image without alt text"),
        ("bad_link.html", "broken link to no_such_page.html"),
        ("console_error.html", "console error: the memory pipe burst"),
        ("outside_request.html", "request to an outside host: https://example.org/valve.png"),
        ("unknown_widget.html", 'Script error for "lstm-no-such-widgets"'),
        ("unknown_widget.html", "live ipywidgets widget(s) shown"),
        ("too_wide.html", "at 390 px"),
        ("dark_image.html", "image on a dark background in the dark theme"),
        ("inaccessible.html", "accessibility (1280 px, light theme, critical): button-name"),
        ("inaccessible.html", "accessibility (390 px, dark theme, critical): button-name"),
    ],
)
def test_the_browser_checks_catch_a_broken_page_and_name_it(broken_site, page, problem):
    found = [line for line in broken_site if line.startswith(f"{page}: ")]
    assert any(problem in line for line in found), f"{page}: expected {problem!r}, got {found}"


def test_the_browser_checks_pass_a_page_that_is_fine(broken_site):
    assert not [line for line in broken_site if line.startswith("index.html: ")]
    assert not [line for line in broken_site if line.startswith("reading.html: ")]


def test_the_html_shows_checks_on_demand_and_no_tooling_comments(broken_build):
    # reading.ipynb: its first cell starts with "# NBVAL_IGNORE_OUTPUT" and ends a line with
    # "# fmt: skip"; its second, tagged hide-input, only checks.
    html = (broken_build / "reading.html").read_text(encoding="utf-8")
    assert "NBVAL_IGNORE_OUTPUT" not in html and "fmt: skip" not in html
    assert "f_rest" in html and "0.7311" in html  # the code and its output stay
    assert "Show the checks" in html and '<summary aria-label="Toggle hidden content">' not in html
