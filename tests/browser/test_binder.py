"""What mybinder.org does, without Docker: repo2docker reads binder/, and a fresh virtual
environment that installs exactly binder/requirements.txt and runs binder/postBuild
serves JupyterLab on the demo notebook, whose cells all run without an error."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import TOKEN, _free_port, screenshot

REPO = Path(__file__).parent.parent.parent


def test_repo2docker_detects_binder_and_runs_postbuild():
    result = subprocess.run(["jupyter-repo2docker", "--no-build", "--debug", "--user-id", "1000",
                             "--user-name", "jovyan", str(REPO)], capture_output=True, text=True, timeout=300)
    dockerfile = result.stdout + result.stderr
    assert result.returncode == 0, dockerfile[-2000:]
    assert "python=3.11" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile


def _copy_worktree(target: Path) -> None:
    """The repository as it is (tracked and new files, nothing ignored), as Binder clones it."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in files:
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def binder_lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    repo, home, venv = base / "repo", base / "home", base / "venv"
    repo.mkdir()
    home.mkdir()
    _copy_worktree(repo)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}:{env['PATH']}", VIRTUAL_ENV=str(venv))
    log = open(base / "build.log", "w")
    subprocess.run(["pip", "install", "--quiet", "-r", "binder/requirements.txt"], cwd=repo, env=env,
                   stdout=log, stderr=subprocess.STDOUT, check=True, timeout=1200)
    subprocess.run(["binder/postBuild"], cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT, check=True,
                   timeout=1200)
    assert not (repo / "js" / "node_modules").exists(), "postBuild keeps the image small"
    assert list(home.glob(".local/share/jupyter-papers/index/*.toc")), "the demo index is built at build time"
    states = [json.loads(p.read_text()) for p in home.glob(".local/share/jupyter-papers/index/meaning/*.json")]
    assert sum(state["done"] for state in states) == 139, "and its vectors, for search by meaning"
    port = _free_port()
    server = subprocess.Popen(
        ["jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
         f"--ServerApp.root_dir={repo}", "--allow-root"], cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    yield url, repo
    server.terminate()
    server.wait(30)


def test_demo_notebook_runs_in_a_fresh_binder_like_environment(browser, binder_lab):
    url, repo = binder_lab
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    page.set_default_timeout(60_000)
    page.goto(f"{url}/lab/tree/binder/demo.ipynb?reset&token={TOKEN}")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=90_000)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Control+Shift+c")
    page.keyboard.type("Run All Cells")
    page.keyboard.press("Enter")
    expect(page.locator(".jp-papers-widget")).to_be_visible(timeout=90_000)
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    try:
        expect(prompts.last).to_have_text("[12]:", timeout=120_000)  # 12 code cells, all run
    finally:
        screenshot(page, "binder-demo")
    assert page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count() == 0
    expect(page.locator(".jp-Notebook")).to_contain_text("W. Deng, Y. Chen")  # the IEEE cell, inserted by the lab
    assert "%%markdown" not in page.locator(".jp-Notebook").inner_text(), "no fallback cells in JupyterLab"
    page.close()
