"""The JupyterLab sidebar and the kernel panel, in a real JupyterLab and a real Chromium."""

import json
import re
import time

import nbformat
from playwright.sync_api import expect

from .conftest import TOKEN, screenshot

PANEL_TAB = '.jp-SideBar [data-id="jupyter-papers-panel"]'


def open_notebook(page, lab, name, cells, notebook7=False):
    """Write the notebook, open it (in JupyterLab, or Notebook 7) and wait for its kernel."""
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, lab.root / name)
    page.goto(f"{lab.url}/notebooks/{name}?token={TOKEN}" if notebook7 else f"{lab.url}/lab/tree/{name}?reset&token={TOKEN}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)  # a page load on a busy machine
    if notebook7:  # no status bar; its kernel indicator says "idle" before it connects: the server says when the page has
        for _ in range(120):
            kernels = [s["kernel"] for s in lab.api("api/sessions") if s["path"].endswith(name) and s.get("kernel")]
            if kernels and kernels[0].get("connections", 0) >= 1 and kernels[0]["execution_state"] == "idle":
                break
            page.wait_for_timeout(500)
        else:
            raise AssertionError(f"the page never connected to a kernel for {name}: {lab.api('api/sessions')}")
        expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(1, timeout=60_000)
    else:
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)


def saved_cells(page, lab, name, count):
    """Save with the keyboard and read the cells back from disk."""
    path = lab.root / name
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    for _ in range(60):
        cells = lab.notebook(name)["cells"] if path.stat().st_mtime_ns != before else []
        if len(cells) >= count:
            return [("".join(c["source"]) if isinstance(c["source"], list) else c["source"], c["cell_type"]) for c in cells]
        time.sleep(0.5)
    raise AssertionError(f"{name} was not saved with {count} cells: {lab.notebook(name)['cells']}")


def open_panel(page):
    page.keyboard.press("Control+Alt+p")
    expect(page.locator(".jp-papers-input")).to_be_focused()


def search(page, text, first_title):
    """Type a query and wait until the first result is the expected paper."""
    page.fill(".jp-papers-input", text)
    expect(page.locator(".jp-papers-hit").first.locator(".jp-papers-title")).to_contain_text(first_title)


def test_panel_finds_a_typo_and_inserts_abstract_and_citation_cells(page, lab):
    open_notebook(page, lab, "cells.ipynb", [nbformat.v4.new_markdown_cell("# Reading notes"),
                                               nbformat.v4.new_code_cell("x = 1")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    search(page, "resonanse rope", "Resonance RoPE")
    first = page.locator(".jp-papers-hit").first
    expect(page.locator(".jp-papers-suggestion")).to_have_text("Did you mean resonance rope?")
    expect(first.locator(".jp-papers-snippet mark").first).to_be_visible()
    screenshot(page, "lab-panel-light")
    first.locator('[data-action="abstract"]').click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(3)
    first.locator('[data-action="cite"]').click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(4)
    cells = saved_cells(page, lab, "cells.ipynb", 4)
    assert cells[0] == ("# Reading notes", "markdown")
    assert cells[1][1] == "markdown" and cells[1][0].startswith("**[Resonance RoPE: Improving Context Length")
    assert "> This paper addresses the challenge" in cells[1][0]
    assert cells[2][1] == "markdown" and cells[2][0].startswith("Wang, S., Kobyzev, I., Lu, P.")
    assert cells[3] == ("x = 1", "code")
    screenshot(page, "lab-inserted-cells")
    assert not page.errors


def test_keyboard_arrows_enter_and_escape(page, lab):
    open_notebook(page, lab, "keys.ipynb", [nbformat.v4.new_code_cell("y = 2")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    search(page, "diffusion", "Diffusion")
    expect(page.locator(".jp-papers-hit").nth(1)).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".jp-papers-hit").nth(1)).to_have_class(re.compile("jp-mod-selected"))
    second_title = page.locator(".jp-papers-hit").nth(1).locator(".jp-papers-title").inner_text()
    page.keyboard.press("Enter")
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(page.locator(".jp-papers-input")).not_to_be_focused()
    cells = saved_cells(page, lab, "keys.ipynb", 2)
    assert second_title.split(":")[0][:30] in cells[1][0]


def test_more_results_page_on_to_the_exact_total(page, lab):
    """Titles come first, yet the total counts the abstracts' matches too (wordsearch.py)."""
    open_notebook(page, lab, "more.ipynb", [nbformat.v4.new_code_cell("z = 3")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    search(page, "language", "Language")
    expect(page.locator(".jp-papers-status")).to_have_text("20 of 45")
    screenshot(page, "lab-panel-more")
    page.locator(".jp-papers-more").click()
    expect(page.locator(".jp-papers-hit")).to_have_count(40)
    expect(page.locator(".jp-papers-status")).to_have_text("40 of 45")
    page.locator(".jp-papers-more").click()
    expect(page.locator(".jp-papers-hit")).to_have_count(45)
    expect(page.locator(".jp-papers-more")).to_be_hidden()
    assert not page.errors


def test_inline_citation_goes_in_at_the_cursor_of_the_markdown_cell(page, lab):
    open_notebook(page, lab, "inline.ipynb", [nbformat.v4.new_markdown_cell("Context length is hard.")])
    cell = page.locator(".jp-Notebook .jp-Cell").first
    cell.dblclick()
    editor = cell.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" As shown in ")
    page.locator(PANEL_TAB).click()
    search(page, "resonance rope", "Resonance RoPE")
    page.locator(".jp-papers-hit").first.locator('[data-action="inline"]').click()
    expect(editor).to_contain_text("As shown in [@wang2024resonance]")
    cells = saved_cells(page, lab, "inline.ipynb", 1)
    assert cells[0][0] == "Context length is hard. As shown in [@wang2024resonance]"


def test_command_palette_opens_the_panel_and_dark_theme(page, lab):
    lab.set_settings("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Dark"})
    try:
        open_notebook(page, lab, "dark.ipynb", [nbformat.v4.new_code_cell("")])
        page.keyboard.press("Control+Shift+c")
        page.keyboard.type("Search papers")
        page.keyboard.press("Enter")
        expect(page.locator(".jp-papers-input")).to_be_focused()
        search(page, "schrodinger brige", "Reflected Schrödinger Bridge")
        screenshot(page, "lab-panel-dark")
    finally:
        lab.set_settings("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})


def test_index_a_bib_file_from_the_file_browser(page, lab):
    (lab.root / "quokkas.bib").write_text(
        "@article{quokka2021, title={Quokka dynamics on Rottnest Island}, author={Jane Marsupial}, year={2021}}\n"
        "@article{broken, title={never closed\n"
        "@misc{wombat2020, title={Wombat burrows}, year={2020}}\n")
    open_notebook(page, lab, "files.ipynb", [nbformat.v4.new_code_cell("")])
    item = page.locator(".jp-DirListing-item", has_text="quokkas.bib")  # the file browser is open after ?reset
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Index papers in this file").click()
    expect(page.locator(".jp-Notification-Toast, .Toastify__toast").first).to_contain_text("added 2")
    open_panel(page)
    search(page, "quokka rottnest", "Quokka dynamics on Rottnest Island")
    screenshot(page, "lab-indexed-file")


def test_a_hostile_title_shows_as_text(page, lab):
    lab.api("jupyter-papers/papers", "POST", b"@misc{evil, title={<img src=x onerror=alert(1)> zebrafish}, "
                                              b"abstract={<script>alert(2)</script> zebrafish}}")
    open_notebook(page, lab, "xss.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    search(page, "zebrafish", "zebrafish")
    title = page.locator(".jp-papers-hit").first.locator(".jp-papers-title")
    expect(title).to_have_text("<img src=x onerror=alert(1)> zebrafish")
    assert page.locator(".jp-papers-panel img, .jp-papers-panel script").count() == 0
    screenshot(page, "lab-hostile-title")
    assert not [e for e in page.errors if "dialog" in e]


def run_magic(page, lab, name, magic, last_cell):
    """A notebook of `%load_ext`, the magic and one more cell; run the first two."""
    open_notebook(page, lab, name, [nbformat.v4.new_code_cell("%load_ext jupyter_papers"),
                                    nbformat.v4.new_code_cell(magic), last_cell])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")


def test_kernel_panel_inserts_abstract_and_ieee_citation_below_its_cell(page, lab):
    run_magic(page, lab, "magic.ipynb", "%papers rotary position", nbformat.v4.new_markdown_cell("The end."))
    widget = page.locator(".jp-papers-widget")
    expect(widget).to_be_visible(timeout=60_000)
    expect(widget).to_contain_text("Resonance RoPE")
    widget.locator("button", has_text="Insert abstract").click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(4)
    widget.locator("select").first.select_option("ieee")
    widget.locator("button", has_text="Insert citation").click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(5)
    screenshot(page, "kernel-panel")
    cells = saved_cells(page, lab, "magic.ipynb", 5)
    assert cells[1][0] == "%papers rotary position"
    assert cells[2][1] == "markdown" and "S. Wang, I. Kobyzev" in cells[2][0]
    assert cells[3][1] == "markdown" and cells[3][0].startswith("**[Resonance RoPE")
    assert cells[4][0] == "The end."


def test_kernel_panel_reads_well_and_puts_inline_citations_at_the_cursor(page, lab):
    run_magic(page, lab, "widget.ipynb", "%papers resonanse rope", nbformat.v4.new_markdown_cell("Draft: "))
    widget = page.locator(".jp-papers-widget")
    expect(widget).to_contain_text("Resonance RoPE", timeout=60_000)
    years = widget.locator(".widget-text input[type=text]")
    assert [years.nth(n).input_value() for n in (1, 2)] == ["", ""], "empty year boxes, not 0"
    suggestion = widget.locator("button", has_text="did you mean")
    expect(suggestion).to_have_text("did you mean: resonance rope")
    assert suggestion.evaluate("b => b.scrollWidth <= b.clientWidth"), "the suggestion is not cut"
    rows = widget.locator(".jp-papers-widget-row")
    expect(rows.first).to_have_class(re.compile("jp-mod-selected"))
    expect(rows.first.locator("button")).to_have_text("✓ selected")
    assert rows.first.locator("button").evaluate("b => b.scrollWidth <= b.clientWidth"), "the mark is not cut"
    area = page.locator(".jp-OutputArea-output", has=widget).bounding_box()
    box = widget.locator(".widget-text").first.bounding_box()
    assert box["x"] + box["width"] <= area["x"] + area["width"], "the search box stays inside the output area"
    line = widget.locator(".jp-papers-widget-snippet").first.evaluate(
        "node => parseFloat(getComputedStyle(node).lineHeight) / parseFloat(getComputedStyle(node).fontSize)")
    assert line < 1.6, f"snippets are not double-spaced (line height {line:.2f} em)"
    screenshot(page, "kernel-panel")

    draft = page.locator(".jp-Notebook .jp-Cell").nth(2)
    draft.click()
    page.keyboard.press("Enter")  # edit mode
    expect(draft.locator(".cm-content")).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type("RoPE scaling ")
    widget.locator("button", has_text="Insert inline").click()
    expect(widget).to_contain_text("went into the Markdown cell you were editing")
    cells = saved_cells(page, lab, "widget.ipynb", 3)
    assert cells[2] == ("Draft: RoPE scaling [@wang2024resonance]", "markdown"), "at the cursor, no new cell"


def test_magic_cite_in_lab_inserts_through_the_comm(page, lab):
    run_magic(page, lab, "comm.ipynb", "%papers --cite --style ieee resonance rope", nbformat.v4.new_code_cell("z = 3"))
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(4, timeout=60_000)
    cells = saved_cells(page, lab, "comm.ipynb", 4)
    assert cells[2][1] == "markdown" and "S. Wang" in cells[2][0], "inserted right below the magic's cell"
    assert cells[3] == ("z = 3", "code")
    assert "%%markdown" not in json.dumps(cells), "no fallback inside JupyterLab"


def test_a_setting_adds_each_citation_to_a_references_bib_beside_the_notebook(page, lab):
    (lab.root / "chapter").mkdir()
    lab.set_settings("jupyter-papers:plugin", {"addToBibliography": True, "style": "ieee",
                                               "bibliographyDialect": "biblatex"})
    try:
        open_notebook(page, lab, "chapter/bib.ipynb", [nbformat.v4.new_code_cell("w = 4")])
        page.locator(".jp-Notebook .jp-Cell").first.click()
        open_panel(page)
        search(page, "resonance rope", "Resonance RoPE")
        page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').click()
        expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2)
        bib = lab.root / "chapter" / "references.bib"
        for _ in range(40):
            if bib.exists():
                break
            time.sleep(0.25)
        assert bib.read_text().startswith("@inproceedings{wang2024resonance,")
        assert "date = {2024" in bib.read_text() and "year =" not in bib.read_text(), "written as biblatex"
        cells = saved_cells(page, lab, "chapter/bib.ipynb", 2)
        assert cells[1][0].startswith("S. Wang, I. Kobyzev"), "the IEEE style from the settings, a lone reference unnumbered"
    finally:
        lab.set_settings("jupyter-papers:plugin", {})


def test_the_sidebar_is_compact_keeps_its_search_box_and_shows_why_a_paper_matched(page, lab):
    open_notebook(page, lab, "compact.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    page.fill(".jp-papers-input", "learning")
    hits = page.locator(".jp-papers-hit")
    expect(hits.first.locator(".jp-papers-title mark").first).to_contain_text("Learning")
    expect(hits.nth(9)).to_be_attached()
    panel = page.locator(".jp-papers-panel").bounding_box()
    tops = [hits.nth(n).bounding_box()["y"] for n in range(10)]
    assert sum(top < panel["y"] + panel["height"] for top in tops) >= 5, "five or more results on a screen"
    assert hits.nth(1).locator(".jp-papers-action").count() == 0 or not hits.nth(1).locator(
        ".jp-papers-actions").is_visible(), "actions on the selected result only"
    page.locator(".jp-papers-panel").evaluate("node => node.scrollTo(0, node.scrollHeight)")
    box = page.locator(".jp-papers-input").bounding_box()
    assert box["y"] >= panel["y"] - 1 and box["y"] < panel["y"] + 60, "the search box stays in view"
    screenshot(page, "lab-panel-compact")

    search(page, "Bang Liu", "Resonance RoPE")
    meta = hits.first.locator(".jp-papers-meta")
    expect(meta.locator("mark")).to_contain_text(["Bang", "Liu"])
    expect(meta).to_contain_text("Suyuchen Wang, Ivan Kobyzev, Peng Lu, Bang Liu")

    page.fill(".jp-papers-input", "")
    page.locator(".jp-papers-year").nth(1).fill("2023")  # "to", no Enter: applied as typed
    expect(page.locator(".jp-papers-hit .jp-papers-meta").first).to_contain_text("2023")  # newest first
    page.locator(".jp-papers-year").first.fill("2024")  # "from" after "to"
    expect(page.locator(".jp-papers-year-note")).to_have_text("(read as 2023–2024)")
    expect(page.locator(".jp-papers-hit .jp-papers-meta").first).to_contain_text("2024")
    expect(page.locator(".jp-papers-status")).not_to_contain_text("No papers")


def test_the_demo_notebook_opens_unmodified(page, lab):
    """JupyterLab writes the kernel's language_info into a notebook's metadata when the
    kernel connects: a notebook without it (or with another Python) opens as modified."""
    import platform
    import shutil
    from pathlib import Path

    from .conftest import TOKEN

    demo = json.loads((Path(__file__).parent.parent.parent / "binder" / "demo.ipynb").read_text())
    assert demo["metadata"]["language_info"]["name"] == "python"
    demo["metadata"]["language_info"]["version"] = platform.python_version()  # the kernel runs this Python
    (lab.root / "demo-here.ipynb").write_text(json.dumps(demo))
    shutil.copy(lab.root / "demo-here.ipynb", lab.root / "demo-bare.ipynb")
    bare = json.loads((lab.root / "demo-bare.ipynb").read_text())
    del bare["metadata"]["language_info"]
    (lab.root / "demo-bare.ipynb").write_text(json.dumps(bare))
    for name, dirty in (("demo-here.ipynb", 0), ("demo-bare.ipynb", 1)):  # a dirty page would ask before leaving
        page.goto(f"{lab.url}/lab/tree/{name}?reset&token={TOKEN}")
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
        expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(dirty, timeout=10_000)
        page.wait_for_timeout(2000)
        expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(dirty)


def test_enter_on_a_focused_button_presses_it_and_backspace_returns_from_related(page, lab):
    """Tab to a result's Related and Enter lists related papers (it used to insert a
    citation); the focus stays in the panel, so Backspace brings the results back."""
    open_notebook(page, lab, "keys.ipynb", [nbformat.v4.new_markdown_cell("Notes")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    search(page, "rotary position", "Resonance RoPE")
    titles = page.locator(".jp-papers-hit .jp-papers-title").all_inner_texts()
    related = page.locator(".jp-papers-hit").first.locator('[data-action="related"]')
    related.focus()
    expect(related).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".jp-papers-status")).to_contain_text("papers related to")
    expect(page.locator(".jp-papers-back")).to_be_focused()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(1)  # nothing inserted
    page.keyboard.press("Backspace")
    expect(page.locator(".jp-papers-status")).not_to_contain_text("related")
    assert page.locator(".jp-papers-hit .jp-papers-title").all_inner_texts() == titles
    abstract = page.locator(".jp-papers-hit").first.locator('[data-action="abstract"]')
    abstract.focus()
    page.keyboard.press(" ")  # Space presses it too: the abstract, not a citation
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2)
    expect(page.locator(".jp-Notebook .jp-Cell").nth(1)).to_contain_text("This paper addresses the challenge")


def test_related_has_a_way_back(page, lab):
    open_notebook(page, lab, "related.ipynb", [nbformat.v4.new_code_cell("")])
    open_panel(page)
    search(page, "rotary position", "Resonance RoPE")
    hits = page.locator(".jp-papers-hit")
    titles = hits.locator(".jp-papers-title").all_inner_texts()
    hits.nth(1).click()
    hits.nth(1).locator('[data-action="related"]').click()
    expect(page.locator(".jp-papers-status")).to_contain_text("papers related to")
    assert hits.locator(".jp-papers-title").all_inner_texts() != titles
    page.locator(".jp-papers-back").click()
    expect(page.locator(".jp-papers-status")).not_to_contain_text("related")
    assert hits.locator(".jp-papers-title").all_inner_texts() == titles, "the same results, in the same order"
    expect(hits.nth(1)).to_have_class(re.compile("jp-mod-selected"))
    expect(page.locator(".jp-papers-input")).to_have_value("rotary position")


def test_a_long_error_is_shown_whole_in_the_panel(page, lab):
    lab.set_settings("jupyter-papers:plugin", {"style": "nosuchstyle"})
    try:
        open_notebook(page, lab, "error.ipynb", [nbformat.v4.new_code_cell("")])
        open_panel(page)
        search(page, "rotary position", "Resonance RoPE")
        page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').click()
        error = page.locator(".jp-papers-error")
        expect(error).to_contain_text("unknown citation style 'nosuchstyle'")
        expect(error).to_contain_text("any CSL style name, or a .csl file")  # the end of a 165-character message
        panel = page.locator(".jp-papers-panel").bounding_box()
        box = error.bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"] + 1, "wrapped inside the panel"
        screenshot(page, "lab-panel-error")
        error.locator(".jp-papers-error-dismiss").click()
        expect(error).to_be_hidden()
    finally:
        lab.set_settings("jupyter-papers:plugin", {})


FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return {
    inPanel: Boolean(el.closest('.jp-papers-panel')),
    name: el.dataset.action || el.className.split(' ')[0] || el.tagName.toLowerCase(),
    hit: el.closest('.jp-papers-hit') ? [...document.querySelectorAll('.jp-papers-hit')].indexOf(el.closest('.jp-papers-hit')) : -1,
    visible: ring && el.matches(':focus-visible'),
  };
}"""


def test_the_whole_sidebar_is_walked_by_keyboard(page, lab):
    """Issue 30, item 6: every control reachable with Tab, its focus visible, Enter and
    Space press the focused one, Escape goes back to the notebook."""
    open_notebook(page, lab, "walk.ipynb", [nbformat.v4.new_markdown_cell("Notes")])
    page.locator(".jp-Notebook .jp-Cell").first.click()
    open_panel(page)
    search(page, "resonanse rope", "Resonance RoPE")  # a typo: "Did you mean" is a control too
    expect(page.locator(".jp-papers-suggestion-link")).to_be_visible()
    reached = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if not focused["inPanel"]:
            break
        reached.append(focused)
        if focused["hit"] == 1:
            screenshot(page, "lab-sidebar-keyboard")
            break
    names = {(f["name"], f["hit"]) for f in reached}
    expected = {("jp-papers-year", -1), ("jp-papers-scope", -1), ("jp-papers-references", -1),
                ("jp-papers-sources-summary", -1), ("jp-papers-suggestion-link", -1), ("jp-papers-choose", 0),
                ("cite", 0), ("abstract", 0), ("inline", 0), ("bibtex", 0), ("related", 0)}
    assert expected <= names, f"not reached by Tab: {expected - names}"
    unseen = [f["name"] for f in reached if not f["visible"]]
    assert not unseen, f"focus not visible on {unseen}"

    page.keyboard.press("Shift+Tab")
    while page.evaluate(FOCUSED)["name"] != "related":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press(" ")  # Space presses Related
    expect(page.locator(".jp-papers-back")).to_be_focused()
    page.keyboard.press("Enter")  # Enter presses "Back to results"
    expect(page.locator(".jp-papers-status")).not_to_contain_text("related")
    page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(2)
    page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').focus()
    page.keyboard.press("Escape")
    expect(page.locator(".jp-Notebook .jp-Cell.jp-mod-active")).to_be_visible()
    assert page.evaluate("() => Boolean(document.activeElement.closest('.jp-Notebook'))"), "Escape: back to the notebook"
