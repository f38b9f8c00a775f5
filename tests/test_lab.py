"""The local notebook experience: a chapter in JupyterLab, run, with a slider that drives its plot.

Starts JupyterLab on loopback (no browser, a token, every Jupyter folder in a temporary directory,
no news pop-up, autosave off) on a copy of the book's notebooks, opens a chapter in headless
Chromium, runs it, moves a slider with the keyboard and asserts that the figure it drives changed.
Marked ``browser``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.chromium import LAUNCH_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "02_memory_pipe.ipynb"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings: Path) -> None:
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for name, content in files.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of book/; yields (base URL, token, root)."""
    tmp = tmp_path_factory.mktemp("lab")
    notebooks = tmp / "book"
    shutil.copytree(ROOT / "book", notebooks, ignore=shutil.ignore_patterns("_extra", "_ext"))
    settings = tmp / "lab-settings"
    _write_settings(settings)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "IPYTHONDIR": str(tmp / "ipython"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
    ]  # fmt: skip
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 - closed below, after the server
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    output = (tmp / "lab.log").read_text()
                    raise RuntimeError(f"JupyterLab did not start:\n{output}") from error
                time.sleep(0.5)
        yield base, token, notebooks
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_idle(page, timeout_ms=120_000):
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
        ".some(e => e.textContent.includes('| Idle'))",
        timeout=timeout_ms,
    )


def test_a_slider_in_jupyterlab_redraws_the_plot_it_drives(lab):
    from playwright.sync_api import sync_playwright

    base, token, notebooks = lab
    original = (notebooks / CHAPTER).read_bytes()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside = []
        page.route(
            "**/*",
            lambda r: (
                r.continue_()
                if r.request.url.startswith((base, "data:", "blob:"))
                else (outside.append(r.request.url), r.abort())
            ),
        )
        page.goto(f"{base}/lab/tree/{CHAPTER}?token={token}")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        _wait_idle(page)  # the kernel exists and has started (the status bar, not the cell prompt)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        handle = page.locator(".jp-OutputArea .jupyter-widgets .noUi-handle").first
        handle.wait_for(timeout=120_000)
        _wait_idle(page)
        box = handle.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
        readout = box.locator(".widget-readout").first
        image = box.locator("img").first
        image.wait_for(timeout=30_000)
        before = (readout.text_content(), image.get_attribute("src"))
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(  # the Output widget replaces its <img> when the plot is redrawn
            "([box, src]) => { const img = box.querySelector('img');"
            " return img && img.getAttribute('src') !== src; }",
            arg=[box.element_handle(), before[1]],
            timeout=30_000,
        )
        after = (readout.text_content(), box.locator("img").first.get_attribute("src"))
        browser.close()
    assert after[0] != before[0], f"the slider's value did not move: {before[0]} -> {after[0]}"
    assert after[1] != before[1], "the plot did not change when the slider moved"
    assert not outside, f"JupyterLab requested outside hosts: {sorted(set(outside))[:5]}"
    assert (notebooks / CHAPTER).read_bytes() == original, "the test must not rewrite the notebook"
