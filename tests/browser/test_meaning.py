"""Search by meaning in the sidebar: how far the embedding has got, while it works, in a
real JupyterLab and Chromium."""

import re

import pytest
from playwright.sync_api import expect

import jupyter_papers as jp

from ..conftest import write_jsonl
from .conftest import TOKEN, new_page, screenshot, serve
from .test_lab import open_panel

CLAIM = "computers learn to forecast tomorrow's rain and temperature across the planet"


@pytest.fixture
def half_embedded_lab(tmp_path):
    """A lab whose index has the demo corpus embedded and 300 papers of the user's not yet."""
    index = jp.open_index(tmp_path / "papers-home" / "index")
    index.add(jp.read_papers(jp.bundled_corpus()))
    index.embed()
    index.add(jp.read_papers(write_jsonl(tmp_path / "mine.jsonl", 0, 300)))
    index.close()
    yield from serve("jupyterlab", tmp_path, {"JUPYTER_PAPERS_EMBED": "manual"})


def test_the_sidebar_shows_embedding_progress_and_when_results_used_meaning(browser, half_embedded_lab):
    lab = half_embedded_lab
    page = new_page(browser)
    page.goto(f"{lab.url}/lab?reset&token={TOKEN}")
    expect(page.locator("#jp-main-statusbar")).to_be_visible(timeout=60_000)
    open_panel(page)
    line = page.locator(".jp-papers-meaning")
    expect(line).to_have_text("Meaning: 139 of 439 papers embedded (paused)")
    page.fill(".jp-papers-input", CLAIM)
    status = page.locator(".jp-papers-status")
    expect(status).to_contain_text("by words and meaning: 139 of 439 papers embedded so far")
    expect(page.locator(".jp-papers-hit .jp-papers-title").nth(1)).to_contain_text("Prithvi WxC")
    screenshot(page, "meaning-partial")

    assert lab.api("jupyter-papers/meaning", "POST", b"")["state"] == "embedding"
    expect(line).to_have_text(re.compile(r"Meaning: [\d,]+ of 439 papers embedded so far"))
    screenshot(page, "meaning-embedding")
    expect(line).to_be_hidden(timeout=300_000)  # complete: nothing left to say
    assert lab.api("jupyter-papers/meaning")["state"] == "complete"
    page.fill(".jp-papers-input", CLAIM + " ")
    expect(status).to_contain_text("by words and meaning")
    expect(status).not_to_contain_text("so far")
    assert not page.errors
    page.context.close()
