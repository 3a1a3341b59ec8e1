"""The %papers magic and the ipywidgets panel: unit tests on a real IPython shell and
index, and a real kernel running a notebook through nbclient."""


import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

import jupyter_papers as jp
from jupyter_papers.kernel.bridge import FALLBACK_NOTICE
from jupyter_papers.kernel.magic import PapersMagics, PanelResults
from jupyter_papers.kernel.widget import SearchPanel

from .conftest import BIB


class RecordingBridge:
    """Stands in for the comm: records what would be sent to JupyterLab."""

    def __init__(self):
        self.sent = []

    def current_cell_id(self):
        return "cell-42"

    def insert_cell(self, source, cell_type="markdown", after_cell_id=None, executing=True, role=None):
        self.sent.append({"action": "insert_cell", "cell_type": cell_type, "source": source,
                          "after_cell_id": after_cell_id, "role": role})
        return True

    def request(self, action, on_reply=None, **data):
        """The lab answers at once: the inline citation went into a cell being edited."""
        self.sent.append({"action": action, **data})
        if on_reply is not None:
            on_reply({"ok": True, "placed": "cell"})
        return True


@pytest.fixture
def magics(demo_index):
    shell = InteractiveShell.instance()
    papers = PapersMagics(shell)
    papers._index = demo_index
    papers.bridge = RecordingBridge()
    shell.register_magics(papers)
    return papers


def test_magic_documents_every_option(magics):
    doc = magics.papers.__doc__
    for option in ("--for", "--cite", "--abstract", "--inline", "--style", "--format", "--add", "--index", "--bib", "--limit",
                   "--year"):
        assert option in doc


def test_bad_options_give_a_one_line_usage_error(magics):
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        magics.papers("--bogus rope")
    with pytest.raises(UsageError, match="--year"):
        magics.papers("--year soon rope")


def test_nothing_found_is_one_line(magics, capsys):
    assert magics.papers("qqqzzzxxyy") is None
    assert capsys.readouterr().out.strip() == "%papers: no papers found for 'qqqzzzxxyy'"


def test_cite_and_abstract_send_cells_below_the_running_cell(magics, capsys):
    magics.papers("--cite --style ieee resonance rope")
    magics.papers("--abstract 2403.00071")
    cite, abstract = magics.bridge.sent
    assert cite["after_cell_id"] == abstract["after_cell_id"] == "cell-42"
    assert (cite["role"], abstract["role"]) == ("cite", "abstract")  # one cell of each per asking cell
    assert "S. Wang, I. Kobyzev" in cite["source"] and cite["cell_type"] == "markdown"
    assert abstract["source"].startswith("**[Resonance RoPE")
    assert "cited 'Resonance RoPE" in capsys.readouterr().out


def test_inline_forms_and_bib(magics, tmp_path):
    assert magics.papers("--inline --format myst resonance rope") == "{cite:p}`wang2024resonance`"
    assert magics.papers("--inline --format latex 2403.00071") == r"\citep{wang2024resonance}"
    bib = tmp_path / "references.bib"
    magics.papers(f"--cite --bib {bib} 2403.00071")
    assert bib.read_text().startswith("@inproceedings{wang2024resonance")


def test_query_returns_results_object_with_html_and_dataframe(magics):
    results = magics.papers("rotary position")
    assert isinstance(results, PanelResults) and results[0].paper.id == "2403.00071"
    assert "<mark>Rotary</mark>" in results._repr_html_()
    frame = results.to_dataframe()
    assert frame.loc[0, "id"] == "2403.00071"


def test_add_and_index_options(magics, tmp_path, capsys):
    magics.papers(f"--index {tmp_path / 'other'}")
    magics.papers(f"--add {BIB / 'pybtex__xampl.bib'}")
    assert "xampl.bib: added 36" in capsys.readouterr().out
    assert len(magics.index) == 36
    magics.papers(f"--add {tmp_path / 'missing.bib'}")
    assert "no such file" in capsys.readouterr().out


def test_panel_types_selects_and_acts(demo_index):
    bridge = RecordingBridge()
    panel = SearchPanel(demo_index, bridge, debounce=0, cell_id="cell-7")
    assert panel.count.value.startswith("1–10 of 139")
    panel.query.value = "resonanse rope"
    assert panel.results.hits[0].paper.id == "2403.00071"
    assert panel.did_you_mean.description == "did you mean: resonance rope"
    assert panel.did_you_mean.layout.display == ""
    assert "<mark>" in panel.results_box.children[0].children[1].value
    assert "Resonance RoPE" in panel.details.value
    rows = panel.results_box.children
    assert "jp-mod-selected" in rows[0]._dom_classes and rows[0].children[0].description == "✓ selected"
    rows[1].children[0].click()
    assert "jp-mod-selected" not in rows[0]._dom_classes and "jp-mod-selected" in rows[1]._dom_classes
    rows[0].children[0].click()
    for action in ("cite", "abstract"):
        panel.actions[action].click()
    assert [m["after_cell_id"] for m in bridge.sent] == ["cell-7"] * 2
    assert bridge.sent[0]["source"].startswith("Wang, S.")
    assert bridge.sent[1]["source"].startswith("**[Resonance RoPE")
    panel.actions["inline"].click()
    assert bridge.sent[2] == {"action": "insert_inline", "text": "[@wang2024resonance]"}, "at a cursor, not a cell"
    assert "went into the Markdown cell you were editing" in panel.status.value
    panel.style.value = "ieee"
    panel.actions["cite"].click()
    assert "S. Wang" in bridge.sent[3]["source"]
    panel.actions["related"].click()
    assert "2403.00071" not in [h.paper.id for h in panel.results.hits]
    panel.did_you_mean.click()


def test_panel_paging_and_years(demo_index):
    panel = SearchPanel(demo_index, RecordingBridge(), query="model", debounce=0, cell_id=None)
    first = [h.paper.id for h in panel.results.hits]
    panel.next.click()
    assert panel.count.value.startswith("11–20 of")
    assert not set(first) & {h.paper.id for h in panel.results.hits}
    assert panel.year_from.value == panel.year_to.value == "", "empty boxes, not 0"
    panel.year_from.value, panel.year_to.value = "2024", "2024"
    assert {h.paper.year for h in panel.results.hits} == {2024}
    panel.year_from.value = "20"  # half typed: no bound yet
    assert {h.paper.year for h in panel.results.hits} > {2024}


def test_panel_escapes_hostile_paper_text(empty_index):
    empty_index.add([jp.Paper(title="<img src=x onerror=alert(1)> quokka", abstract="<script>alert(2)</script> quokka",
                              authors=["<b>Eve</b>"], venue="<i>v</i>")])
    panel = SearchPanel(empty_index, RecordingBridge(), query="quokka", debounce=0, cell_id=None)
    row_html = panel.results_box.children[0].children[1].value
    for hostile in ("<img", "<script>", "<b>Eve", "<i>v"):
        assert hostile not in row_html and hostile not in panel.details.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in row_html


def test_panel_without_frontend_shows_the_text():
    class Silent(RecordingBridge):
        def insert_cell(self, *args, **kwargs):
            return False

    index = jp.open_index()
    panel = SearchPanel(index, Silent(), query="2403.00071", debounce=0, cell_id=None)
    panel.actions["cite"].click()
    assert panel.output.outputs or panel.output  # an Output widget holds the text to copy


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_real_kernel_runs_the_magic_through_nbclient(tmp_path, papers_home):
    mixed = tmp_path / "mixed.bib"
    mixed.write_text("@misc{empty,\n  pages = {1--2}\n}\n@misc{untitled2020,\n  author = {Doe, Jane}\n}\n")
    notebook = _notebook(
        "%load_ext jupyter_papers",
        "%papers --cite --style ieee resonance rope",
        "%papers --abstract 2403.00071",
        f"%papers --add {mixed}",
        "r = %papers rotary position\nprint(r.total, r[0].paper.id)",
        "%papers rotary position",
        "%papers --inline --format myst resonance rope",
        "%papers qqqzzzxxyy",
        "%papers --nope",
        "r = %papers diffusion --year 2024 --limit 3\nprint(len(r), sorted({h.paper.year for h in r}))",
        "%papers --cite --bib refs.bib 2403.00071",
        f"%papers --index {tmp_path / 'other-index'} --add {BIB / 'pybtex__xampl.bib'}",
        "r = %papers gnats gnus\nprint(r.total, r[0].paper.key)",
    )
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = [cell.outputs for cell in notebook.cells]
    text = lambda i: "".join(o.get("text", "") for o in out[i] if o.output_type == "stream")  # noqa: E731
    assert FALLBACK_NOTICE in text(1) and "cited 'Resonance RoPE" in text(1)
    assert FALLBACK_NOTICE not in text(2), "the fallback is explained once"
    assert "mixed.bib: added 1" in text(3) and "mixed.bib:1: entry 'empty' has nothing to cite" in text(3)
    total, first = text(4).split()
    assert int(total) > 1 and first == "2403.00071"
    shown = out[5][0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown and "Resonance RoPE" in shown["text/html"]
    assert out[6][0]["data"]["text/plain"] == "'{cite:p}`wang2024resonance`'"
    assert text(7).strip() == "%papers: no papers found for 'qqqzzzxxyy'"
    assert [o["output_type"] for o in out[8]] == ["stream"], "a bad option is a message, not a traceback"
    assert out[8][0]["text"].strip() == "UsageError: %papers: unrecognized arguments: --nope. See %papers?"
    assert text(9).strip() == "3 [2024]"
    assert (tmp_path / "refs.bib").read_text().startswith("@inproceedings{wang2024resonance")
    assert "pybtex__xampl.bib: added 36" in text(11)
    total, key = text(12).split()
    assert int(total) >= 1 and key in {"article-full", "article-minimal", "article-crossref"}


def test_a_kernel_searches_the_index_its_ipython_config_names(tmp_path, papers_home, monkeypatch):
    """``c.PapersMagics.location`` in ipython_config.py: the index %papers uses when no
    --index is given, as a JupyterHub sets it for every user's kernels."""
    with jp.open_index(tmp_path / "lab-index") as index:
        index.add(jp.read_papers(BIB / "pybtex__xampl.bib"))
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(f"c.PapersMagics.location = {str(tmp_path / 'lab-index')!r}\n")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    notebook = _notebook("%load_ext jupyter_papers", "r = %papers gnats gnus\nprint(r.total, r[0].paper.key)",
                         "%papers resonance rope")
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream") for cell in notebook.cells]
    total, key = text[1].split()
    assert int(total) >= 1 and key in {"article-full", "article-minimal", "article-crossref"}
    assert "no papers found for 'resonance rope'" in text[2], "not the default index (the demo corpus)"
    assert not (papers_home / "index").exists()


def test_real_kernel_fallback_is_a_markdown_next_input(papers_home):
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        client.execute_interactive("%load_ext jupyter_papers", timeout=60)
        reply = client.execute_interactive("%papers --abstract 2403.00071", timeout=60)
        payload = reply["content"]["payload"]
        assert payload[0]["source"] == "set_next_input"
        assert payload[0]["text"].startswith("%%markdown\n**[Resonance RoPE")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_the_magic_cites_several_works_narratively_and_with_a_locator(magics):
    assert magics.papers("--inline resonance rope; property inference") == (
        "[@wang2024resonance; @tian2023manipulating]")
    assert magics.papers("--inline --format myst --narrative resonance rope") == "{cite:t}`wang2024resonance`"
    assert magics.papers('--inline --format latex --locator "p. 33" resonance rope') == (
        r"\citep[p.~33]{wang2024resonance}")


def test_papers_for_a_passage(magics):
    results = magics.papers('--for "an adversary who controls the upstream model infers what the victim trained on"')
    assert results.hits[0].paper.id == "2303.11643"
    short = magics.papers('--for "upstream model property inference"')  # read as a passage however short
    assert short.hits[0].paper.id == "2303.11643" and not short.suggestion


def test_a_bad_style_file_or_a_broken_bib_is_one_line(magics, tmp_path, capsys):
    (tmp_path / "bad.csl").write_text("<style>not a CSL style")
    broken = tmp_path / "broken.bib"
    broken.write_text("@article{open, title = {never closed\n")
    magics.papers(f"--cite --style {tmp_path / 'nope.csl'} 2403.00071")
    magics.papers(f"--cite --style {tmp_path / 'bad.csl'} 2403.00071")
    magics.papers(f"--cite --bib {broken} 2403.00071")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("%papers: ") for line in lines), lines
    assert "nope.csl" in lines[0] and "broken.bib:1" in lines[2] and "never closed" in lines[2]


def test_the_magic_lists_adds_syncs_and_removes_sources(magics, tmp_path, capsys, empty_index):
    magics._index = empty_index
    bib = tmp_path / "mine.bib"
    bib.write_text("@article{kiwi2020, title = {Kiwi flight loss}, author = {Doe, Jane}, year = {2020}}\n")
    magics.papers("--sources")
    magics.papers(f"--sources add {bib}")
    magics.papers("--sources")
    magics.papers("--sources sync")
    magics.papers("--sources remove mine")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "%papers: no sources; add one with %papers --sources add PATH"
    assert lines[1] == "%papers: mine: added 1, updated 0, removed 0"
    assert lines[2] == f"mine: bibtex, 1 papers, ok, {bib}"
    assert lines[3] == "%papers: mine: unchanged"
    assert lines[4] == "%papers: removed the source mine: 1 papers left the index"
    with pytest.raises(UsageError, match="--sources: list"):
        magics.papers("--sources frobnicate")


def test_the_panel_offers_every_named_style(demo_index):
    from jupyter_papers.kernel.widget import SearchPanel

    panel = SearchPanel(demo_index, RecordingBridge())
    assert list(panel.style.options) == ["apa", "ieee", "chicago", "harvard", "mla", "nature", "vancouver", "bibtex"]


def test_magic_searches_the_full_text_and_warns_before_citing_a_guessed_title(tmp_path, empty_index, capsys):
    from . import pdfs
    from jupyter_papers.sources import extract

    pdfs.article(tmp_path / "quoll.pdf", "Quoll Dens in Granite Outcrops",
                 ["Page one on dasyurid ecology.", "Dens were found under granite slabs in 14 of 20 outcrops."])
    empty_index.add(extract.papers_of_pdfs([tmp_path / "quoll.pdf"], print))
    shell = InteractiveShell.instance()
    papers = PapersMagics(shell)
    papers._index, papers.bridge = empty_index, RecordingBridge()
    shown = papers.papers("granite slabs outcrops --in fulltext")
    assert [hit.paper.title for hit in shown] == ["Quoll Dens in Granite Outcrops"]
    html = shown._repr_html_()
    assert "p. 2: " in html and "<mark>granite</mark> <mark>slabs</mark>" in html
    assert papers.papers("granite slabs outcrops --in metadata").hits[0].pages == []
    papers.papers("--cite quoll dens granite")
    said = capsys.readouterr().out
    warning = said.index("was guessed from its PDF (title from the first page")
    assert warning < said.index("%papers: cited 'Quoll Dens in Granite Outcrops'")
    assert "Quoll Dens in Granite Outcrops" in papers.bridge.sent[-1]["source"]


def test_magic_cites_a_doi_the_index_lacks_by_looking_it_up(recorded_web, empty_index, capsys):
    from .recorded_web import WATER

    shell = InteractiveShell.instance()
    papers = PapersMagics(shell)
    papers._index, papers.bridge = empty_index, RecordingBridge()
    assert papers.papers(f"https://doi.org/{WATER}") is None
    shown = capsys.readouterr().out
    assert "not in the index; online: The Structure of Ordinary Water (Henry S. Frank, 1970)" in shown
    assert len(empty_index) == 0
    papers.papers(f"--cite https://doi.org/{WATER}")
    said = capsys.readouterr().out
    assert "looked up https://doi.org/10.1126/science.169.3946.635 online and added it" in said
    assert "Frank, H. S. (1970). The Structure of Ordinary Water." in papers.bridge.sent[-1]["source"]
    assert empty_index.get(WATER).key == "frank1970structure"
    papers.papers("--cite 10.1126/foo")
    assert "doi.org knows no doi:10.1126/foo" in capsys.readouterr().out
