"""The notebook's reference list in a real JupyterLab: the command palette, the sidebar
button and %papers --bibliography all write one marked References cell, in place."""

import time

import nbformat
from playwright.sync_api import expect

from .conftest import screenshot
from .test_lab import PANEL_TAB, open_notebook, saved_cells, search

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


def type_into_cell(page, index, text):
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.click()
    page.keyboard.press("Enter")  # edit mode
    editor = cell.locator(".cm-content")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(text, delay=40)
    return cell


def test_at_completion_in_a_markdown_cell_writes_the_key(page, lab):
    open_notebook(page, lab, "complete.ipynb", [nbformat.v4.new_markdown_cell("Position encodings "),
                                                  nbformat.v4.new_code_cell("x = 1")])
    type_into_cell(page, 0, "[@reso")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.first).to_contain_text("Resonance RoPE")
    expect(options.first).to_contain_text("Suyuchen Wang et al., 2024")
    screenshot(page, "lab-citation-completion")
    page.wait_for_timeout(300)  # CodeMirror ignores Enter for 75 ms after the list changes (interactionDelay)
    page.keyboard.press("Enter")
    page.keyboard.type(" and @manipul", delay=40)
    expect(options.first).to_contain_text("Manipulating Transfer Learning")
    options.first.click()
    page.keyboard.type(". Write to me@resonance.org")
    page.wait_for_timeout(800)
    expect(page.locator(".cm-tooltip-autocomplete")).to_have_count(0)
    page.keyboard.press("Escape")
    type_into_cell(page, 1, "\n@reso")
    page.wait_for_timeout(800)
    expect(page.locator(".cm-tooltip-autocomplete")).to_have_count(0), "no completion in code cells"
    page.keyboard.press("Escape")
    cells = saved_cells(page, lab, "complete.ipynb", 2)
    assert cells[0][0] == ("Position encodings [@wang2024resonance] and @tian2023manipulating. "
                           "Write to me@resonance.org")
    assert cells[1][0].startswith("x = 1") and cells[1][0].endswith("\n@reso"), "a code cell keeps what was typed"


def test_selected_results_are_cited_together_at_the_cursor(page, lab):
    open_notebook(page, lab, "together.ipynb", [nbformat.v4.new_markdown_cell("Long contexts are hard.")])
    cell = page.locator(".jp-Notebook .jp-Cell").first
    cell.dblclick()
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" See ")
    page.locator(PANEL_TAB).click()
    search(page, "position interpolation rope", "Position Interpolation Improves ALiBi")
    hits = page.locator(".jp-papers-hit")
    keys = []
    for n in (0, 1):
        hits.nth(n).locator(".jp-papers-choose").check()
        keys.append(lab.api(f"jupyter-papers/papers/{hits.nth(n).get_attribute('data-id')}")["key"])
    expect(page.locator(".jp-papers-selection")).to_contain_text("2 selected")
    screenshot(page, "lab-cite-together")
    page.locator(".jp-papers-cite-selected").click()
    expect(editor).to_contain_text(f"See [@{keys[0]}; @{keys[1]}]")
    expect(page.locator(".jp-papers-selection")).to_be_hidden()
    cells = saved_cells(page, lab, "together.ipynb", 1)
    assert cells[0][0] == f"Long contexts are hard. See [@{keys[0]}; @{keys[1]}]"


def test_find_papers_for_the_sentence_at_the_cursor_and_cite_it_there(page, lab):
    claim = "An adversary who controls an upstream model can infer properties of the data a victim tuned on."
    open_notebook(page, lab, "claim.ipynb", [nbformat.v4.new_markdown_cell(f"Transfer learning is popular. {claim}")])
    cell = type_into_cell(page, 0, "")  # the cursor at the end of the second sentence
    page.keyboard.press("Control+Alt+f")
    expect(page.locator(".jp-papers-input")).to_have_value(claim)
    expect(page.locator(".jp-papers-hit").first.locator(".jp-papers-title")).to_contain_text("Manipulating Transfer Learning")
    screenshot(page, "lab-find-for-sentence")
    page.keyboard.press("Enter")  # the default action, coming from a Markdown cell being edited: cite inline
    expect(cell.locator(".cm-content")).to_contain_text("[@tian2023manipulating]")
    cells = saved_cells(page, lab, "claim.ipynb", 1)
    cited = f"Transfer learning is popular. {claim[:-1]} [@tian2023manipulating]."  # before the full stop
    assert cells[0][0] == cited

    cell.click()
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+Shift+End")  # a selection: the whole cell
    run_palette_command(page, "Find papers for this sentence")
    expect(page.locator(".jp-papers-input")).to_have_value(cited)


def inline_from_sidebar(page, query, first_title):
    if not page.locator(".jp-papers-input").is_visible():
        page.locator(PANEL_TAB).click()
    search(page, query, first_title)
    page.locator(".jp-papers-hit").first.locator('[data-action="inline"]').click()


def test_inline_citations_go_after_the_word_before_the_full_stop_and_join_their_neighbour(page, lab):
    """Issue 30: citations landed mid-word (`traini[@key]ng`), glued (`draft[@a][@b]`) and
    after the full stop."""
    open_notebook(page, lab, "placing.ipynb", [nbformat.v4.new_markdown_cell("Scaling position encodings helps.")])
    cell = type_into_cell(page, 0, "")  # the cursor after the full stop
    editor = cell.locator(".cm-content")
    inline_from_sidebar(page, "resonance rope", "Resonance RoPE")
    expect(editor).to_contain_text("Scaling position encodings helps [@wang2024resonance].")
    inline_from_sidebar(page, "manipulating transfer learning", "Manipulating Transfer Learning")
    expect(editor).to_contain_text("helps [@wang2024resonance; @tian2023manipulating].")

    editor.click()
    page.keyboard.press("Control+Home")
    for _ in range(len("Scaling posi")):
        page.keyboard.press("ArrowRight")  # inside "position"
    key = lab.api("jupyter-papers/papers/2305.03726")["key"]
    inline_from_sidebar(page, "2305.03726", "Otter")
    expect(editor).to_contain_text(f"Scaling position [@{key}] encodings")
    screenshot(page, "lab-inline-placement")
    cells = saved_cells(page, lab, "placing.ipynb", 1)
    assert cells[0][0] == (f"Scaling position [@{key}] encodings helps "
                           "[@wang2024resonance; @tian2023manipulating].")


def test_completion_after_a_citation_joins_it(page, lab):
    open_notebook(page, lab, "joining.ipynb", [nbformat.v4.new_markdown_cell("RoPE scaling [@wang2024resonance] ")])
    type_into_cell(page, 0, "[@manipul")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.first).to_contain_text("Manipulating Transfer Learning")
    options.first.click()
    cells = saved_cells(page, lab, "joining.ipynb", 1)
    assert cells[0][0] == "RoPE scaling [@wang2024resonance; @tian2023manipulating]"


def test_file_menu_exports_the_notebook_with_its_references(page, lab):
    """Issue 30, item 3: File ▸ Save and Export Notebook As ▸ HTML with references."""
    open_notebook(page, lab, "exported.ipynb", [
        nbformat.v4.new_markdown_cell("# Draft\n\nRoPE scaling [@wang2024resonance] and {cite:t}`tian2023manipulating`."),
        nbformat.v4.new_markdown_cell("## References\n\nstale list", metadata={"jupyter_papers": {"references": True}}),
    ])
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text="Save and Export Notebook As").hover()
    page.locator(".lm-Menu-itemLabel", has_text="HTML with references").click()
    expect(page.locator(".Toastify__toast", has_text="Exported exported.html")).to_be_visible(timeout=60_000)
    screenshot(page, "lab-export-menu")
    html = (lab.root / "exported.html").read_text()
    assert "Resonance RoPE: Improving Context Length Generalization" in html
    assert "Tian et al." in html and "[@" not in html and "cite:t" not in html
    assert "stale list" not in html and html.count(">References<") == 1
