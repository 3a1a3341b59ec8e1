"""The notebook's reference list in a real JupyterLab: the command palette, the sidebar
button and %papers --bibliography all write one marked References cell, in place."""

import time

import nbformat
from playwright.sync_api import expect

from .conftest import screenshot
from .test_lab import PANEL_TAB, open_notebook, saved_cells

CITING = [
    nbformat.v4.new_markdown_cell("# Draft\n\nRoPE scaling [@wang2024resonance, p. 3] and {cite:t}`tian2023manipulating`."),
    nbformat.v4.new_code_cell("@property\ndef f(self): return '[@not_a_citation]'"),
    nbformat.v4.new_markdown_cell(r"Also \citep{2305.03726} and [@nosuchpaper]. Mail a@b.com."),
]


def run_palette_command(page, label):
    page.keyboard.press("Control+Shift+c")
    page.locator(".lm-CommandPalette-input").fill(label)
    page.keyboard.press("Enter")


def reference_cell(lab, name):
    for cell in lab.notebook(name)["cells"]:
        if (cell.get("metadata") or {}).get("jupyter_papers", {}).get("references"):
            return cell
    return None


def test_the_palette_command_writes_one_references_cell_and_updates_it_in_place(page, lab):
    open_notebook(page, lab, "draft.ipynb", CITING)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    run_palette_command(page, "Update the notebook’s references")
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(4)
    references = page.locator(".jp-Notebook .jp-Cell").last
    expect(references).to_contain_text("References")
    expect(references).to_contain_text("Wang, S., Kobyzev, I.")
    expect(references).to_contain_text("nosuchpaper")
    screenshot(page, "lab-references-cell")
    cells = saved_cells(page, lab, "draft.ipynb", 4)
    marked = reference_cell(lab, "draft.ipynb")
    assert marked is not None and "".join(marked["source"]).startswith("## References")
    text = "".join(marked["source"])
    assert text.index("Li, B.") < text.index("Tian, Y.") < text.index("Wang, S."), "APA sorts by author"
    assert "not_a_citation" not in text and "a@b.com" not in text and cells[1][1] == "code"

    page.locator(".jp-Notebook .jp-Cell").nth(1).click()
    page.locator(PANEL_TAB).click()
    page.locator(".jp-papers-references").click()  # the sidebar's button does the same, in place
    time.sleep(1)
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(4)
    assert page.errors == []


def test_the_magic_asks_the_lab_for_the_references_cell(page, lab):
    open_notebook(page, lab, "magic-refs.ipynb", CITING + [
        nbformat.v4.new_code_cell("%load_ext jupyter_papers\n%papers --bibliography --style ieee")])
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(5, timeout=60_000)
    last = page.locator(".jp-Notebook .jp-Cell").last
    expect(last).to_contain_text("[1] S. Wang")
    expect(last).to_contain_text("[2] Y. Tian")
    saved_cells(page, lab, "magic-refs.ipynb", 5)
    marked = reference_cell(lab, "magic-refs.ipynb")
    assert marked is not None and "\\[3\\] B. Li" in "".join(marked["source"]), "numbered by first citation"
