"""A paper not in the index, in a real JupyterLab: a DOI pasted in the sidebar shows the
paper the web has for it (real recorded responses of doi.org and Crossref, replayed on
localhost), marked online; Enter cites it, and it is in the index, as a looked-up paper."""

import nbformat
from playwright.sync_api import expect

from ..recorded_web import WATER
from .conftest import screenshot
from .test_lab import open_notebook, open_panel


def test_a_pasted_doi_shows_the_online_paper_and_enter_cites_and_adds_it(page, lab):
    open_notebook(page, lab, "online.ipynb", [nbformat.v4.new_markdown_cell("Water notes")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    page.fill(".jp-papers-input", f"https://doi.org/{WATER}")
    hit = page.locator(".jp-papers-hit.jp-papers-online").first
    expect(hit.locator(".jp-papers-title")).to_have_text("The Structure of Ordinary Water")
    expect(hit.locator(".jp-papers-online-badge")).to_have_text("online")
    expect(page.locator(".jp-papers-online-heading")).to_contain_text("From the web")
    expect(page.locator(".jp-papers-hit:not(.jp-papers-online)")).to_have_count(0)
    screenshot(page, "lab-online-doi")
    page.locator(".jp-papers-input").press("Enter")
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    expect(cell).to_contain_text("Frank, H. S. (1970). The Structure of Ordinary Water.")
    paper = lab.api(f"jupyter-papers/papers/{WATER}")
    assert paper["key"] == "frank1970structure" and paper["extra"]["looked_up"] == f"doi:{WATER}"
    sources = lab.api("jupyter-papers/sources")["sources"]
    assert [(s["name"], s["papers"]) for s in sources if s["name"] == "looked-up"] == [("looked-up", 1)]
    # now the index's own: found locally, nothing online
    page.fill(".jp-papers-input", WATER)
    expect(page.locator(".jp-papers-hit:not(.jp-papers-online) .jp-papers-title")).to_have_text(
        "The Structure of Ordinary Water")
    expect(page.locator(".jp-papers-online")).to_have_count(0)


def test_an_unknown_doi_says_what_the_web_answered(page, lab):
    open_notebook(page, lab, "online-missing.ipynb", [nbformat.v4.new_markdown_cell("Notes")])
    open_panel(page)
    page.fill(".jp-papers-input", "10.1126/foo")
    expect(page.locator(".jp-papers-online-error")).to_have_text("Online lookup: doi.org knows no doi:10.1126/foo")
    expect(page.locator(".jp-papers-hit")).to_have_count(0)
