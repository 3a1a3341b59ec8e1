"""Faults that lost a user's work or hung it (issue 31): import workers that die, rebuilds
that race, a .bib that stops parsing, links replaced by files, a References cell whose
user text vanished, cells nbformat rejects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import bibtexparser
import nbformat
import pytest

import jupyter_papers as jp
from jupyter_papers.backends.whoosh import rebuild
from jupyter_papers.citations.bibfile import BibliographyError

from .conftest import count, write_jsonl

IMPORTER = textwrap.dedent("""
    import resource, signal, sys
    import jupyter_papers as jp
    if len(sys.argv) > 3:  # a file-size limit, as a quota or `ulimit -f` gives
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = int(sys.argv[3])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    index = jp.open_index(sys.argv[1])
    print("ready", flush=True)
    try:
        report = index.add(jp.read_papers(sys.argv[2]), procs=2)
    except RuntimeError as error:
        print("error:", error, flush=True)
        sys.exit(3)
    print("added", report.added, flush=True)
""")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _import(tmp_path, index, papers, *extra) -> subprocess.Popen:
    script = tmp_path / "importer.py"
    script.write_text(IMPORTER)
    return subprocess.Popen([sys.executable, str(script), str(index), str(papers), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_an_import_whose_worker_is_killed_stops_says_so_and_changes_nothing(thousand, tmp_path):
    papers = write_jsonl(tmp_path / "many.jsonl", 1000, 30000)
    importer = _import(tmp_path, thousand, papers)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and importer.poll() is None:
        workers = _children(importer.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the import runs two workers"
    os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer would
    out, err = importer.communicate(timeout=300)  # before the fix: never returned, holding the write lock
    assert importer.returncode == 3, out + err
    assert "An indexing process stopped (killed by signal 9" in out and "nothing of this import was written" in out
    assert count(thousand) == 1000
    with jp.open_index(thousand) as index:  # the write lock was released
        assert index.add([jp.Paper(id="after", title="Written after the failed import")]).added == 1
        assert len(index) == 1001


def test_an_import_whose_worker_cannot_write_its_files_stops_and_says_why(thousand, tmp_path):
    papers = write_jsonl(tmp_path / "many.jsonl", 1000, 20000)
    importer = _import(tmp_path, thousand, papers, str(3 * 2**20))  # 3 MB: a worker's segment is larger
    out, err = importer.communicate(timeout=300)
    assert importer.returncode == 3, out + err
    assert "An indexing process failed (OSError: [Errno 27] File too large)" in out, out + err
    assert count(thousand) == 1000


def test_two_rebuilds_a_moment_apart_both_finish_and_lose_nothing(tmp_path):
    path = tmp_path / "index"
    with jp.open_index(path) as index:
        index.add(jp.read_papers(write_jsonl(tmp_path / "mine.jsonl", 0, 4000)))
    first = subprocess.Popen([sys.executable, "-m", "jupyter_papers.cli", "--index", str(path), "rebuild"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".index.rebuild-*")) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    assert list(tmp_path.glob(".index.rebuild-*")), "the first rebuild is building beside the index"
    second = subprocess.Popen([sys.executable, "-m", "jupyter_papers.cli", "--index", str(path), "rebuild"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for process in (first, second):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
    assert count(path) == 4000
    assert not list(tmp_path.glob(".index.*")), "nothing left beside the index"


def test_a_rebuild_killed_inside_a_swap_of_two_renames_leaves_an_index(thousand, monkeypatch):
    """Where the folders cannot be exchanged in one step, the old index is renamed aside
    first: a process killed right then must not leave the next open an empty index."""
    monkeypatch.setattr(rebuild, "_swapped_atomically", lambda first, second: False)
    real_rename = os.rename

    def rename_then_die(source, target):
        if Path(target) == thousand:
            raise KeyboardInterrupt  # killed after the old index went aside, before the new one came
        real_rename(source, target)

    monkeypatch.setattr(rebuild.os, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt):
        rebuild.rebuild_index(thousand)
    monkeypatch.undo()
    assert not thousand.exists(), "the index was renamed aside"
    assert count(thousand) == 1000
    assert jp.open_index(thousand).get("mine-999") is not None


def test_a_value_with_an_unbalanced_brace_is_written_so_that_the_file_reads_back(tmp_path):
    bib = tmp_path / "references.bib"
    odd = jp.Paper(id="odd", key="odd2020", title="Braces { everywhere", year=2020, type="article-journal",
                   venue="J", csl={"page": "12{", "volume": "3}"})
    jp.write_bibliography([odd], bib)
    jp.write_bibliography([jp.Paper(id="next", key="next2021", title="The next one", year=2021)], bib)
    library = bibtexparser.parse_file(str(bib))
    assert [entry.key for entry in library.entries] == ["odd2020", "next2021"] and not library.failed_blocks
    read = {paper.key: paper for paper in jp.read_papers(bib)}
    assert read["odd2020"].csl["page"] == "12{" and read["odd2020"].title == "Braces { everywhere"


def test_a_write_that_would_not_read_back_is_refused_and_the_file_kept(tmp_path, monkeypatch):
    from jupyter_papers.citations import bibfile

    bib = tmp_path / "references.bib"
    bib.write_text("@misc{mine, title = {Mine}}\n")
    monkeypatch.setattr(bibfile, "bibtex_entry", lambda paper, key=None, aliases=(), dialect="bibtex": f"@misc{{{key}, title = {{x")
    with pytest.raises(BibliographyError, match="would not read back"):
        jp.write_bibliography([jp.Paper(id="p", key="p2020", title="P")], bib)
    assert bib.read_text() == "@misc{mine, title = {Mine}}\n"


def test_a_bib_file_or_a_notebook_that_is_a_link_stays_a_link(tmp_path, demo_index):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "library.bib").write_text("@misc{mine, title = {Mine}}\n")
    (tmp_path / "references.bib").symlink_to(shared / "library.bib")
    notebook = shared / "draft.ipynb"
    notebook.write_text(json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "RoPE [@wang2024resonance].")])))
    (tmp_path / "draft.ipynb").symlink_to(notebook)
    jp.bibliography(tmp_path / "draft.ipynb", "apa", bib=tmp_path / "references.bib", index=demo_index)
    assert (tmp_path / "references.bib").is_symlink() and (tmp_path / "draft.ipynb").is_symlink()
    assert "@article{wang2024resonance," in (shared / "library.bib").read_text() or \
        "wang2024resonance," in (shared / "library.bib").read_text()
    assert (shared / "library.bib").read_text().startswith("@misc{mine, title = {Mine}}\n")
    assert "## References" in notebook.read_text()


def _notebook(path: Path, *sources: str, minor: int = 5) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in sources])
    notebook.nbformat_minor = minor
    if minor < 5:
        for cell in notebook.cells:
            cell.pop("id", None)
    path.write_text(json.dumps(notebook))
    return path


def test_what_the_user_wrote_in_the_references_cell_is_kept(tmp_path, demo_index):
    notebook = _notebook(tmp_path / "draft.ipynb", "RoPE [@wang2024resonance] and [@smith1999unknown].")
    jp.bibliography(notebook, "apa", index=demo_index)
    document = json.loads(notebook.read_text())
    cell = document["cells"][-1]
    note = "Smith, J. (1999). *A paper not in the index*. Self-published."
    cell["source"] = cell["source"] + "\n" + note + "\n\nChecked by hand.\n"
    document["cells"].insert(0, nbformat.v4.new_markdown_cell("Otter [@li2023otter]."))
    notebook.write_text(json.dumps(document))
    jp.bibliography(notebook, "ieee", index=demo_index)
    jp.bibliography(notebook, "ieee", index=demo_index)  # and again: kept once, not twice
    source = json.loads(notebook.read_text())["cells"][-1]["source"]
    assert source.count(note) == 1 and source.count("Checked by hand.") == 1
    assert "Otter" in source and "B. Li *et al.*" in source, "the list itself is current (IEEE, the new citation)"
    assert source.index("Otter") < source.index(note), "the user's lines follow the list"


def test_the_references_route_keeps_what_the_user_wrote(tmp_path, demo_index):
    from jupyter_papers.citations.references import reference_cell, reference_list

    cells = [{"cell_type": "markdown", "source": "RoPE [@wang2024resonance].", "metadata": {}}]
    listed = reference_list(cells, demo_index.get, "apa")
    source, marker = reference_cell(cells, listed.markdown)
    cells.append({"cell_type": "markdown", "source": source + "My own note.\n", "metadata": {"jupyter_papers": marker}})
    again, _ = reference_cell(cells, reference_list(cells, demo_index.get, "mla").markdown)
    assert again.endswith("My own note.\n") and again.count("My own note.") == 1


@pytest.mark.parametrize("minor", [4, 5])
def test_every_notebook_we_write_is_valid_nbformat(tmp_path, demo_index, minor):
    notebook = _notebook(tmp_path / "draft.ipynb", "# Draft", "RoPE [@wang2024resonance].", minor=minor)
    jp.bibliography(notebook, "apa", bib=tmp_path / "references.bib", index=demo_index)
    written = nbformat.read(str(notebook), as_version=4)
    nbformat.validate(written)
    assert ("id" in written.cells[-1]) == (minor >= 5)
    assert written.cells[-1].source.startswith("## References")
