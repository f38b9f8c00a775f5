"""Screenshot pages of the built book in headless Chromium, to look at them as a reader would.

    python -m tests.browser.screenshot _build/html book/02_memory_pipe.html [...] [--out DIR]

Writes one full-page PNG per page into DIR (default /tmp/lstm-book-shots) and prints the paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .book_check import serve
from .chromium import LAUNCH_ARGS, find_chromium


def screenshot(root: Path, pages: list[str], out: Path, width: int = 1280) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with serve(root.resolve()) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        for rel in pages:
            page.goto(base + rel, wait_until="load")
            page.wait_for_load_state("networkidle")
            page.evaluate("() => window.MathJax?.startup?.promise")
            page.wait_for_timeout(300)
            path = out / (rel.replace("/", "_").removesuffix(".html") + ".png")
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        browser.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--out", type=Path, default=Path("/tmp/lstm-book-shots"))
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    for path in screenshot(args.root, args.pages, args.out, args.width):
        print(path)


if __name__ == "__main__":
    main()
