"""Find a Chromium for the browser checks: the system one if there is one, else Playwright's own.

``python -m tests.browser.chromium --ensure`` (run by ``make test``'s set-up) installs Playwright's
Chromium only when no system Chromium is found, and fails loudly if neither can be had: the browser
checks never pass silently for want of a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags for a headless, sandbox-free Chromium that talks to nothing but this machine. Without the
# host-resolver rule Chromium itself looks up outside hosts, which no page-level route can see.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]


def system_chromium() -> str | None:
    """Path of a system Chromium (``$LSTMBOOK_CHROMIUM`` first), or None."""
    override = os.environ.get("LSTMBOOK_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in SYSTEM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def playwright_chromium() -> str | None:
    """Path of Playwright's own Chromium if it has been installed, else None."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        path = p.chromium.executable_path
    return path if path and Path(path).exists() else None


def find_chromium() -> str:
    """The Chromium to use; raises RuntimeError (never skips) when there is none."""
    path = system_chromium() or playwright_chromium()
    if path is None:
        raise RuntimeError(
            "No Chromium found: install your system's chromium package, or run "
            "'python -m playwright install chromium' (make test does this for you)."
        )
    return path


def ensure() -> int:
    if system_chromium():
        print(f"browser checks will use {system_chromium()}")
        return 0
    if playwright_chromium() is None:
        print("No system Chromium: installing Playwright's Chromium for the browser checks.")
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    print(f"browser checks will use {find_chromium()}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--ensure"]:
        sys.exit("usage: python -m tests.browser.chromium --ensure")
    sys.exit(ensure())
