"""Your library, live, in a real JupyterLab: a .bib file saved on disk shows its new paper
in the sidebar with no click, a removed entry disappears, and a paper's PDF opens in
JupyterLab's own PDF viewer."""

import json
import re

import nbformat
from playwright.sync_api import expect

from .conftest import screenshot
from .test_lab import open_notebook, open_panel, search

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def bib_entry(key, title, extra=""):
    return f"@article{{{key},\n  title = {{{title}}},\n  author = {{Marsupial, Jane}},\n  year = {{2021}}{extra}\n}}\n\n"


def test_a_bib_file_saved_on_disk_updates_the_sidebar_with_no_click(page, lab):
    library = lab.root / "live.bib"
    library.write_text(bib_entry("bandicoot2021", "Bandicoot foraging at night"))
    added = lab.api("jupyter-papers/sources", "POST", json.dumps({"path": str(library), "name": "live"}).encode())
    assert added["added"] == 1
    open_notebook(page, lab, "live.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    page.locator(".jp-papers-sources-summary").click()
    expect(page.locator('.jp-papers-source[data-name="live"]')).to_contain_text("live: 1 papers, synced")
    search(page, "bandicoot foraging", "Bandicoot foraging at night")
    page.fill(".jp-papers-input", "numbat termite diet")
    expect(page.locator(".jp-papers-hit").first).not_to_contain_text("Numbat termite diet")
    with library.open("a") as out:  # saved by another program: Better BibTeX, JabRef, an editor
        out.write(bib_entry("numbat2021", "Numbat termite diet"))
    expect(page.locator(".jp-papers-hit").first.locator(".jp-papers-title")).to_contain_text(
        "Numbat termite diet", timeout=60_000)
    expect(page.locator('.jp-papers-source[data-name="live"]')).to_contain_text("live: 2 papers")
    screenshot(page, "lab-sources-live")
    library.write_text(bib_entry("numbat2021", "Numbat termite diet"))
    page.fill(".jp-papers-input", "bandicoot foraging")
    expect(page.locator(".jp-papers-title", has_text="Bandicoot foraging at night")).to_have_count(0, timeout=60_000)


def test_a_paper_with_a_pdf_opens_it_in_jupyterlab_s_pdf_viewer(page, lab):
    (lab.root / "papers").mkdir(exist_ok=True)
    (lab.root / "papers" / "echidna.pdf").write_bytes(PDF)
    library = lab.root / "with-pdf.bib"
    library.write_text(bib_entry("echidna2021", "Echidna electroreception",
                                 ",\n  file = {Full Text:papers/echidna.pdf:application/pdf}"))
    lab.api("jupyter-papers/sources", "POST", json.dumps({"path": str(library)}).encode())
    open_notebook(page, lab, "pdf.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    search(page, "echidna electroreception", "Echidna electroreception")
    hit = page.locator(".jp-papers-hit").first
    expect(hit.locator('[data-action="pdf"]')).to_be_visible()
    hit.locator('[data-action="pdf"]').click()
    viewer = page.locator(".jp-papers-pdf")
    expect(viewer.or_(page.locator(".jp-papers-error-text"))).to_be_visible()
    expect(page.locator(".jp-papers-error-text")).to_have_count(0)
    expect(viewer).to_be_visible()
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text("Echidna electroreception")
    # JupyterLab's PDF renderer: an <object> holding an object URL, inside an iframe
    expect(viewer.frame_locator("iframe").locator("object")).to_have_attribute("data", re.compile(r"^blob:"))
    shown = page.evaluate("""async () => {
        const viewer = document.querySelector('.jp-papers-pdf iframe').contentDocument.querySelector('object');
        return (await (await fetch(viewer.data.split('#')[0])).text()).slice(0, 8);
    }""")
    assert shown == "%PDF-1.4", "the viewer holds the attachment's bytes (headless Chromium draws no PDF)"
    screenshot(page, "lab-pdf-viewer")
    page.fill(".jp-papers-input", "bandicoot")
    expect(page.locator('.jp-papers-hit [data-action="pdf"]')).to_have_count(0)


def test_the_collection_picker_shows_one_zotero_collection(page, lab):
    from ..zotero_library import ZoteroLibrary

    library = ZoteroLibrary(lab.root / "Zotero")
    thesis = library.collection("Thesis")
    chapter = library.collection("Chapter 2", parent=thesis)
    library.item("journalArticle", {"title": "Kookaburra laughter acoustics", "date": "2019"},
                 creators=[("author", "Ann", "Smith")], collections=[chapter])
    library.item("journalArticle", {"title": "Kookaburra nesting sites", "date": "2020"},
                 creators=[("author", "Bo", "Jones")])
    library.close()
    lab.api("jupyter-papers/sources", "POST", json.dumps({"zotero": True, "path": str(lab.root / "Zotero")}).encode())
    open_notebook(page, lab, "collections.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    search(page, "kookaburra", "Kookaburra")
    expect(page.locator(".jp-papers-hit")).to_have_count(2)
    picker = page.locator(".jp-papers-collection")
    expect(picker.locator("option", has_text="Thesis/Chapter 2")).to_have_count(1)
    picker.select_option("Thesis/Chapter 2")
    expect(page.locator(".jp-papers-hit")).to_have_count(1)
    expect(page.locator(".jp-papers-hit").first).to_contain_text("Kookaburra laughter acoustics")
    screenshot(page, "lab-zotero-collection")
    picker.select_option("")
    expect(page.locator(".jp-papers-hit")).to_have_count(2)
