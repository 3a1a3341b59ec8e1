"""Notebook 7 (issue 13, item 5): the sidebar, `@` completion and Run All of `%papers`
cells work there as in JupyterLab, and nothing of ours raises in the page."""

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import new_page, screenshot
from .test_lab import open_notebook, saved_cells, search
from .test_references import type_into_cell
from .test_run_all import MAGIC_CELLS, check_inserted, menu


@pytest.fixture
def page(browser, notebook7):
    page = new_page(browser)
    yield page
    page.context.close()


def errors_of_ours(page):
    """Page errors raised by our bundle (Notebook 7.6 raises one of its own, "reading
    'schema'", with jupyter-papers disabled too)."""
    return [error for error in page.errors if "jupyter-papers" in error or "jupyter_papers" in error]


def test_the_sidebar_cites_into_the_notebook(page, notebook7):
    open_notebook(page, notebook7, "nb7.ipynb", [nbformat.v4.new_markdown_cell("# Notes"),
                                                 nbformat.v4.new_code_cell("x = 1")], notebook7=True)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Control+Alt+p")
    expect(page.locator(".jp-papers-input")).to_be_focused()
    search(page, "resonanse rope", "Resonance RoPE")
    screenshot(page, "notebook7-sidebar")
    page.locator(".jp-papers-hit").first.locator('[data-action="cite"]').click()
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(3)
    cells = saved_cells(page, notebook7, "nb7.ipynb", 3)
    assert [kind for _, kind in cells] == ["markdown", "markdown", "code"]
    assert cells[1][0].startswith("Wang, S., Kobyzev, I."), cells[1][0]
    assert errors_of_ours(page) == []


def test_at_completion_writes_the_key(page, notebook7):
    open_notebook(page, notebook7, "nb7-complete.ipynb", [nbformat.v4.new_markdown_cell("Position encodings ")],
                  notebook7=True)
    type_into_cell(page, 0, "[@reso")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.first).to_contain_text("Resonance RoPE")
    page.wait_for_timeout(300)  # CodeMirror ignores Enter for 75 ms after the list changes (interactionDelay)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    cells = saved_cells(page, notebook7, "nb7-complete.ipynb", 1)
    assert cells[0][0] == "Position encodings [@wang2024resonance]"
    assert errors_of_ours(page) == []


def test_run_all_inserts_markdown_cells(page, notebook7):
    open_notebook(page, notebook7, "nb7-run-all.ipynb", MAGIC_CELLS, notebook7=True)
    menu(page, "Run", "Run All Cells")
    check_inserted(page, notebook7, "nb7-run-all.ipynb")
    assert errors_of_ours(page) == []


def test_restart_and_run_all_inserts_markdown_cells(page, notebook7):
    open_notebook(page, notebook7, "nb7-restart.ipynb", MAGIC_CELLS, notebook7=True)
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    check_inserted(page, notebook7, "nb7-restart.ipynb")
    screenshot(page, "notebook7-restart-run-all")
    assert errors_of_ours(page) == []
