"""The ipywidgets search panel: results as you type, and actions that insert cells."""

from __future__ import annotations

import asyncio
import html

import ipywidgets as w

from ..citations.cite import INLINE as INLINE_FORMATS, STYLES as CSL_STYLES, abstract_cell, bibtex_entry, cite
from ..index import PaperIndex
from ..paper import Paper
from ..results import SearchResults

STYLES = [*CSL_STYLES, "bibtex"]  # every named style the core formats, as the sidebar offers them
DEBOUNCE_SECONDS = 0.25
# ipywidgets sets every HTML widget's line height to a control's height (28 px): text reads
# double-spaced. Scoped to this panel.
CSS = """<style>
.jp-papers-widget .widget-html-content { line-height: 1.35; }
.jp-papers-widget .jp-papers-widget-row { padding: 2px 4px; border-left: 3px solid transparent; }
.jp-papers-widget .jp-papers-widget-row.jp-mod-selected { border-left-color: var(--jp-brand-color1);
  background: var(--jp-layout-color2); }
.jp-papers-widget .jp-papers-widget-snippet { opacity: .8; }
</style>"""


class SearchPanel(w.VBox):
    """Search box, result list, details of the selected paper, and its actions."""

    def __init__(self, index: PaperIndex, bridge, query: str = "", limit: int = 10, style: str = "apa",
                 inline_format: str = "pandoc", debounce: float = DEBOUNCE_SECONDS, cell_id: str | None = None):
        self.index, self.bridge, self.limit, self.debounce = index, bridge, limit, debounce
        self.cell_id = cell_id if cell_id is not None else bridge.current_cell_id()
        self.offset = 0
        self.results: SearchResults | None = None
        self.selected: Paper | None = None
        self._pending = None

        self.query = w.Text(value=query, placeholder="Search papers (typos welcome)", continuous_update=True,
                            layout=w.Layout(width="auto"))
        self.year_from = w.Text(placeholder="from", description="years", layout=w.Layout(width="160px"))
        self.year_to = w.Text(placeholder="to", layout=w.Layout(width="70px"))
        self.count = w.HTML()
        self.did_you_mean = w.Button(layout=w.Layout(display="none", width="auto"), tooltip="search this instead")
        self.status = w.HTML()
        self.results_box = w.VBox()
        self.details = w.HTML()
        self.style = w.Dropdown(options=STYLES, value=style if style in STYLES else "apa", description="style")
        self.inline_format = w.Dropdown(options=INLINE_FORMATS, value=inline_format, description="inline")
        self.previous = w.Button(description="◀ previous")
        self.next = w.Button(description="next ▶")
        self.output = w.Output()
        self.actions = {
            "cite": w.Button(description="Insert citation", button_style="primary"),
            "abstract": w.Button(description="Insert abstract"),
            "inline": w.Button(description="Insert inline"),
            "bibtex": w.Button(description="Copy BibTeX"),
            "related": w.Button(description="More like this"),
        }
        for name, button in self.actions.items():
            button.on_click(lambda _, name=name: self.act(name))
        self.query.observe(self._typed, names="value")
        self.year_from.observe(lambda _: self.search(), names="value")
        self.year_to.observe(lambda _: self.search(), names="value")
        self.did_you_mean.on_click(lambda _: setattr(self.query, "value", self.results.suggestion or self.query.value))
        self.previous.on_click(lambda _: self.page(-1))
        self.next.on_click(lambda _: self.page(1))
        super().__init__([
            w.HTML(CSS), self.query, w.HBox([self.year_from, self.year_to, self.style, self.inline_format]),
            w.HBox([self.count, self.did_you_mean]), self.results_box, w.HBox([self.previous, self.next]),
            self.details, w.HBox(list(self.actions.values())), self.status, self.output,
        ])
        self.add_class("jp-papers-widget")
        self.search()

    # searching ---------------------------------------------------------------------
    def _typed(self, change) -> None:
        if self.debounce <= 0:
            self.search()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.get_event_loop().call_later(self.debounce, self.search)

    def search(self, offset: int = 0) -> None:
        self.offset = offset
        self.results = self.index.search(self.query.value, limit=self.limit, offset=offset,
                                         year_from=_year(self.year_from.value), year_to=_year(self.year_to.value))
        self._show_results()

    def page(self, step: int) -> None:
        offset = max(0, self.offset + step * self.limit)
        if self.results is not None and (offset < self.results.total or not self.results.total_exact):
            self.search(offset)

    def _show_results(self) -> None:
        results = self.results
        shown = len(results.hits)
        self.count.value = (f"{results.offset + 1}–{results.offset + shown} of {results.total_label}"
                            + (f" · {results.meaning_label}" if results.meaning else "") if shown
                            else "No papers found")
        self.did_you_mean.description = f"did you mean: {results.suggestion}" if results.suggestion else ""
        self.did_you_mean.layout.display = "" if results.suggestion else "none"
        rows = []
        for hit in results.hits:
            paper = hit.paper
            meta = html.escape(" · ".join(str(x) for x in (", ".join(paper.authors[:3]), paper.year, paper.venue) if x))
            text = w.HTML(f"<b>{hit.highlights.get('title', '')}</b><br><small>{meta}</small>"
                          f"<div class='jp-papers-widget-snippet'>{hit.highlights.get('abstract', '')}</div>",
                          layout=w.Layout(flex="1"))
            choose = w.Button(description="select", layout=w.Layout(width="100px", flex="none"))
            choose.on_click(lambda _, paper=paper: self.select(paper))
            row = w.HBox([choose, text])
            row.add_class("jp-papers-widget-row")
            row.paper_id = paper.id
            rows.append(row)
        self.results_box.children = rows
        self.previous.disabled = results.offset == 0
        self.next.disabled = results.offset + shown >= results.total and results.total_exact
        self.select(results.hits[0].paper if results.hits else None)

    def select(self, paper: Paper | None) -> None:
        self.selected = paper
        for row in self.results_box.children:
            chosen = paper is not None and row.paper_id == paper.id
            (row.add_class if chosen else row.remove_class)("jp-mod-selected")
            row.children[0].description = "✓ selected" if chosen else "select"
            row.children[0].button_style = "info" if chosen else ""
        for button in self.actions.values():
            button.disabled = paper is None
        if paper is None:
            self.details.value = ""
            return
        ids = " · ".join(html.escape(f"{label}: {value}") for label, value in
                         (("id", paper.id), ("key", paper.key), ("arXiv", paper.arxiv_id), ("DOI", paper.doi)) if value)
        guessed = (f"<p><b>Guessed from its PDF</b> ({html.escape(paper.guessed)}): check the reference before "
                   "citing, or add a record of the paper to replace the guess.</p>") if paper.guessed else ""
        self.details.value = (f"<h4>{html.escape(paper.display_title)}</h4><small>{ids}</small>{guessed}"
                              f"<p>{html.escape(paper.abstract)}</p>")

    # actions -----------------------------------------------------------------------
    def act(self, action: str) -> None:
        paper = self.selected
        if paper is None:
            return
        if action == "related":
            self.results = self.index.more_like(paper.id, limit=self.limit)
            self._show_results()
            return
        if action == "bibtex":
            self._show_text("BibTeX (select and copy):", bibtex_entry(paper))
            return
        if action == "inline":
            self._place_inline(cite(paper, self.inline_format.value))
            return
        source = abstract_cell(paper) if action == "abstract" else cite(paper, self.style.value, "markdown")
        if not self.bridge.insert_cell(source, after_cell_id=self.cell_id, executing=False):
            self._show_text("The JupyterLab extension is not active here; copy this into a Markdown cell:", source)

    def _place_inline(self, text: str) -> None:
        """An inline citation belongs at a cursor, not in a cell of its own: the lab puts it
        in the Markdown cell last edited, else on the clipboard."""
        def placed(answer: dict) -> None:
            where = ("into the Markdown cell you were editing" if answer.get("placed") == "cell"
                     else "to the clipboard: paste it where you cite")
            self.status.value = f"<small>{html.escape(text)} went {where}</small>" if answer.get("ok") else \
                f"<small>{html.escape(str(answer.get('error')))}</small>"

        if not self.bridge.request("insert_inline", on_reply=placed, text=text):
            self._show_text("Copy this inline citation into your Markdown cell:", text)

    def _show_text(self, label: str, text: str) -> None:
        self.output.clear_output()
        with self.output:
            from IPython.display import display

            display(w.VBox([w.HTML(html.escape(label)),
                            w.Textarea(value=text, layout=w.Layout(width="100%", height="8em"))]))


def _year(text: str) -> int | None:
    """A year box's value: empty, half typed ("20") or not a year means no bound yet."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) == 4 else None
