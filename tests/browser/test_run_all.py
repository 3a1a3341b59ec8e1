"""%papers inserts Markdown cells however early its cells run: Run All as soon as a
notebook's kernel is up, and Kernel ▸ Restart Kernel and Run All Cells (issue 13, item 1);
and a re-run updates the cells it made instead of adding more, leaving one the user
edited (issue 30, item 1)."""

import nbformat
from playwright.sync_api import expect

from .conftest import TOKEN, screenshot
from .test_lab import saved_cells

MAGIC_CELLS = [
    nbformat.v4.new_code_cell("%load_ext jupyter_papers"),
    nbformat.v4.new_code_cell("%papers --abstract 2403.00071"),
    nbformat.v4.new_code_cell("%papers --cite resonance rope"),
]


def menu(page, top, item):
    """Choose a menu item as soon as it is enabled (the notebook may still be becoming current)."""
    for _ in range(60):
        page.locator(".lm-MenuBar-itemLabel", has_text=top).click()
        entry = page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=item)).first
        if "lm-mod-disabled" not in (entry.get_attribute("class") or ""):
            entry.click()
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(250)
    raise AssertionError(f"{top} ▸ {item} stayed disabled")


def check_inserted(page, lab, name):
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(5, timeout=90_000)
    cells = saved_cells(page, lab, name, 5)
    types = [cell_type for _, cell_type in cells]
    assert types == ["code", "code", "markdown", "code", "markdown"], cells
    assert not any("%%markdown" in source for source, _ in cells), "no fallback code cells in JupyterLab"
    assert cells[2][0].startswith("**[Resonance RoPE") and cells[4][0].startswith("Wang, S.")


def open_without_waiting(page, lab, name):
    notebook = nbformat.v4.new_notebook(cells=MAGIC_CELLS)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, lab.root / name)
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={TOKEN}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)  # a page load on a busy machine


def test_run_all_as_soon_as_the_kernel_is_up_inserts_markdown_cells(page, lab):
    """As soon as the new kernel reports Idle (JupyterLab itself drops a Run All issued while
    the session has no kernel yet: it asks which kernel and runs nothing)."""
    open_without_waiting(page, lab, "run-all.ipynb")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    menu(page, "Run", "Run All Cells")
    check_inserted(page, lab, "run-all.ipynb")


def test_restart_and_run_all_inserts_markdown_cells(page, lab):
    open_without_waiting(page, lab, "restart.ipynb")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    check_inserted(page, lab, "restart.ipynb")
    screenshot(page, "lab-restart-run-all")


def edit_cell(page, index, text, append=False):
    """Type into a cell's editor: replace its text, or add to its end."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.dblclick() if "jp-MarkdownCell" in (cell.get_attribute("class") or "") else cell.locator(".cm-content").click()
    editor = cell.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+End" if append else "Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def restart_and_run_all(page):
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog button.jp-mod-accept").click()


def test_a_re_run_updates_the_cells_it_made_and_leaves_an_edited_one(page, lab):
    open_without_waiting(page, lab, "rerun.ipynb")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    restart_and_run_all(page)
    check_inserted(page, lab, "rerun.ipynb")
    cells = page.locator(".jp-Notebook .jp-Cell")
    edit_cell(page, 3, "%papers --cite --style ieee resonance rope")
    restart_and_run_all(page)
    expect(cells.nth(4)).to_contain_text("S. Wang", timeout=90_000)  # the citation, in place, in the new style
    expect(cells).to_have_count(5)
    edit_cell(page, 2, " My own note on it.", append=True)
    edit_cell(page, 3, "%papers --cite --style chicago resonance rope")
    restart_and_run_all(page)
    expect(cells.nth(4)).to_contain_text("Wang, Suyuchen", timeout=90_000)
    expect(page.locator(".jp-toast-message", has_text="you edited it since")).to_be_visible()
    screenshot(page, "lab-rerun-kept-edit")
    saved = saved_cells(page, lab, "rerun.ipynb", 5)
    assert [t for _, t in saved] == ["code", "code", "markdown", "code", "markdown"]
    assert saved[2][0].rstrip().endswith("My own note on it.") and saved[2][0].startswith("**[Resonance RoPE")
    notebook = lab.notebook("rerun.ipynb")
    made = [cell["metadata"].get("jupyter_papers") for cell in notebook["cells"]]
    asker_abstract, asker_cite = notebook["cells"][1]["id"], notebook["cells"][3]["id"]
    assert made[1] == {"made": {"abstract": notebook["cells"][2]["id"]}}
    assert made[2]["made_by"] == asker_abstract and made[2]["role"] == "abstract"
    assert made[4]["made_by"] == asker_cite and made[4]["inserted"] == saved[4][0]
