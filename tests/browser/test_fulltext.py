"""Full text in a real JupyterLab: a sentence from a PDF's body finds its paper, the hit
says on which page, the page opens JupyterLab's PDF viewer there, and citing a paper
whose title was guessed from its PDF asks first."""

import json
import re

import nbformat
from playwright.sync_api import expect

from .. import pdfs
from .conftest import screenshot
from .test_lab import open_notebook, open_panel

BODY = "Numbat burrows were counted at dusk by two rangers across eleven transects of the wandoo woodland."


def test_a_sentence_from_a_pdf_finds_its_page_and_opens_the_pdf_there(page, lab):
    folder = lab.root / "pdf-library"
    folder.mkdir(exist_ok=True)
    pages = [f"Page {n} of a field report on marsupial ecology and fire regimes in the south-west." for n in (1, 2)]
    pdfs.article(folder / "numbats.pdf", "Burrow Counts of Numbats in Wandoo Woodland", [*pages, BODY, pages[0]])
    added = lab.api("jupyter-papers/sources", "POST", json.dumps({"path": str(folder), "name": "pdfs"}).encode())
    assert added["added"] == 1, added
    open_notebook(page, lab, "fulltext.ipynb", [nbformat.v4.new_markdown_cell("Notes")])
    open_panel(page)
    page.fill(".jp-papers-input", "burrows counted at dusk by two rangers")
    hit = page.locator(".jp-papers-hit").first
    expect(hit.locator(".jp-papers-title")).to_contain_text("Burrow Counts of Numbats in Wandoo Woodland")
    expect(hit.locator(".jp-papers-guessed")).to_have_text("guessed title")
    link = hit.locator(".jp-papers-page-link").first
    expect(link).to_have_text("p. 3")
    expect(hit.locator(".jp-papers-page-snippet mark", has_text="rangers")).to_be_visible()
    page.select_option(".jp-papers-scope", "metadata")  # titles and abstracts: no pages shown
    expect(page.locator(".jp-papers-page-link")).to_have_count(0)
    expect(page.locator(".jp-papers-hit")).not_to_have_count(0)
    page.select_option(".jp-papers-scope", "fulltext")
    expect(page.locator(".jp-papers-hit")).to_have_count(1)
    screenshot(page, "lab-fulltext-hit")
    link = page.locator(".jp-papers-hit").first.locator(".jp-papers-page-link").first
    link.click()
    viewer = page.locator(".jp-papers-pdf")
    expect(viewer).to_be_visible()
    expect(page.locator(".jp-papers-error-text")).to_have_count(0)
    expect(viewer.frame_locator("iframe").locator("object")).to_have_attribute("data", re.compile(r"^blob:.*#page=3$"))
    screenshot(page, "lab-fulltext-pdf-at-page")

    # citing a paper known only from its PDF asks first; Cancel writes nothing
    page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Cite a paper with guessed metadata?")
    screenshot(page, "lab-fulltext-guessed-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(1)
    page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').click()
    page.locator(".jp-Dialog").get_by_role("button", name="Cite anyway").click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2)
    expect(page.locator(".jp-Notebook .jp-Cell").nth(1)).to_contain_text("Burrow Counts of Numbats")
