"""A real JupyterLab on localhost, driven by Playwright in Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "jupyter-papers-test-token"
SCREENSHOTS = Path(__file__).parent.parent.parent / "screenshots" / "latest"  # ignored: a test run leaves git clean


@pytest.fixture
def jp_asyncio_loop():
    """Playwright's sync API runs its own event loop in this thread: pytest-jupyter's
    autouse loop fixture must not pick up (and close) that one."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def jp_server_cleanup():
    """No jupyter_server app is made in-process here (the lab runs in its own process)."""
    yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    def __init__(self, url: str, root: Path, home: Path):
        self.url, self.root, self.home = url, root, home

    def api(self, path: str, method: str = "GET", body: bytes | None = None) -> dict:
        request = urllib.request.Request(f"{self.url}/{path}", data=body, method=method,
                                         headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else {}

    def set_settings(self, plugin: str, values: dict) -> None:
        """What the Settings Editor saves for a plugin."""
        self.api(f"lab/api/settings/{plugin}", "PUT", json.dumps({"raw": json.dumps(values)}).encode())

    def notebook(self, name: str) -> dict:
        """The saved notebook, once whole: jupyter_server truncates a notebook's file and
        then writes it, so a read can land in between (an empty or cut file)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return json.loads((self.root / name).read_text())
            except json.JSONDecodeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def serve(application: str, base: Path, environment: dict | None = None):
    """A Jupyter server of ``application`` (jupyterlab or notebook) with our installed
    extensions, its own papers home and an empty root; stopped when the generator ends."""
    root, home = base / "root", base / "papers-home"
    root.mkdir()
    news = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))  # no "Jupyter news?" toast over the screenshots
    port = _free_port()
    env = {**os.environ, "JUPYTER_PAPERS_HOME": str(home), "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
           **(environment or {})}
    app = "LabApp" if application == "jupyterlab" else "JupyterNotebookApp"
    server = subprocess.Popen(
        [sys.executable, "-m", application, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root",
         f"--{app}.workspaces_dir={base / 'workspaces'}", f"--{app}.user_settings_dir={base / 'settings'}"],
        env=env, stdout=open(base / "server.log", "w"), stderr=subprocess.STDOUT)
    instance = Lab(f"http://127.0.0.1:{port}", root, home)
    for _ in range(120):
        try:
            instance.api("api/status")
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        raise RuntimeError(f"{application} did not start: {(base / 'server.log').read_text()[-2000:]}")
    yield instance
    server.terminate()
    server.wait(30)


@pytest.fixture(scope="package")
def web():
    """The scholarly web as real recorded responses on localhost (tests/recorded_web.py):
    the lab's online lookups go there."""
    from pytest_httpserver import HTTPServer

    from ..recorded_web import RecordedWeb

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield RecordedWeb(server)
    server.stop()


@pytest.fixture(scope="package")
def lab(tmp_path_factory, web):
    yield from serve("jupyterlab", tmp_path_factory.mktemp("lab"), web.environment)


@pytest.fixture(scope="package")
def notebook7(tmp_path_factory):
    """Notebook 7 (the `notebook` package, in the test extra), same extensions."""
    yield from serve("notebook", tmp_path_factory.mktemp("notebook7"))


@pytest.fixture(scope="package")
def browser():
    """Package-scoped: Playwright's sync API keeps an event loop running in this thread
    until it stops, which the async tests of other packages must not inherit."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.errors = errors
    return page


@pytest.fixture
def page(browser, lab):
    page = new_page(browser)
    yield page
    page.context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
