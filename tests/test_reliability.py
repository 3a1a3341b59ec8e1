"""Losing a user's papers is the worst thing this product can do: rebuilds killed part way,
rebuilds racing imports, damaged segments, identities, keys and references.bib written by
several processes at once."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import bibtexparser
import pytest

import jupyter_papers as jp
from jupyter_papers.index import VERSION_FILE, IndexBrokenError
from jupyter_papers.backends.whoosh.rebuild import rebuild_index

from .conftest import count, write_jsonl


def cli(*args, home=None) -> subprocess.Popen:
    env = dict(os.environ, JUPYTER_PAPERS_HOME=str(home)) if home else None
    return subprocess.Popen([sys.executable, "-m", "jupyter_papers.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_a_rebuild_killed_at_any_moment_loses_nothing(thousand):
    started = time.monotonic()
    done = cli("--index", str(thousand), "rebuild")
    assert done.wait(120) == 0 and "1000 papers" in done.stdout.read()
    duration = time.monotonic() - started
    chance = random.Random(14)
    for trial in range(6):
        process = cli("--index", str(thousand), "rebuild")
        time.sleep(chance.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert count(thousand) == 1000, f"trial {trial}"
    again = cli("--index", str(thousand), "rebuild")
    assert again.wait(120) == 0 and count(thousand) == 1000
    assert not list(thousand.parent.glob(".index.rebuild-*")), "what a killed rebuild left is cleared"


def test_a_rebuild_after_a_schema_change_keeps_every_paper(thousand):
    (thousand / VERSION_FILE).write_text("4")
    with pytest.raises(IndexBrokenError, match="jupyter-papers rebuild"):
        jp.open_index(thousand)
    report = rebuild_index(thousand)
    assert report.papers == 1000 and not report.problems and count(thousand) == 1000


def test_an_index_whose_pickled_schema_names_classes_this_version_lacks_opens_with_its_own(tmp_path):
    """The table of contents pickles the schema's classes, whose module or name can change
    between versions (the layout of issue 28 moved them): this version reads the index
    with its own schema, which the schema version file says is the same, so the index
    opens and answers; a rebuild keeps every paper too."""
    path = tmp_path / "ix"
    with jp.open_index(path) as index:
        index.add(list(jp.read_papers(jp.bundled_corpus())))
    toc = next(path.glob("_papers_*.toc"))
    assert b"PaperText" in toc.read_bytes()
    toc.write_bytes(toc.read_bytes().replace(b"PaperText", b"PaperTexx"))
    with jp.open_index(path) as index:
        assert len(index) == 139 and index.search("rotary position", limit=1)[0].paper.id == "2403.00071"
    report = rebuild_index(path)
    assert report.papers == 139 and not report.problems
    assert len(jp.open_index(path)) == 139


def test_a_damaged_segment_costs_only_its_own_papers(thousand):
    with jp.open_index(thousand) as index:
        index.add([jp.Paper(title=f"Late paper {n}", key=f"late{n}") for n in range(10)])
    late = [p for p in thousand.glob("papers_*._stored.col")
            if p.stat().st_size == min(q.stat().st_size for q in thousand.glob("papers_*._stored.col"))][0]
    late.write_bytes(late.read_bytes()[:40])
    with pytest.raises(IndexBrokenError, match="jupyter-papers rebuild"):
        with jp.open_index(thousand) as index:
            list(index.papers())
    report = rebuild_index(thousand)
    assert report.papers >= 1000 and report.problems, "the intact segment's papers are all kept"
    assert report.kept_old is not None and report.kept_old.is_dir(), "the damaged index is kept, not deleted"
    assert count(thousand) == report.papers


def test_a_rebuild_and_an_import_at_once_lose_nothing(thousand, tmp_path):
    more = write_jsonl(tmp_path / "more.jsonl", 1000, 500)
    add = cli("--index", str(thousand), "add", str(more))
    rebuild = cli("--index", str(thousand), "rebuild")
    assert add.wait(300) == 0, add.stderr.read()
    assert rebuild.wait(300) == 0, rebuild.stderr.read()
    assert count(thousand) == 1500
    with jp.open_index(thousand) as index:
        assert index.get("mine-1499") is not None and index.get("mine-0") is not None


# --- identity ----------------------------------------------------------------------------
def test_papers_that_share_a_title_stay_two(empty_index):
    items = [{"id": "a1", "type": "chapter", "title": "Introduction", "author": [{"family": "Smith"}]},
             {"id": "b2", "type": "chapter", "title": "Introduction", "author": [{"family": "Jones"}]}]
    report = empty_index.add(jp.read_papers(json.dumps(items)))
    assert report.added == 2 and len(empty_index) == 2
    lines = "\n".join(json.dumps({"id": f"mine-{n}", "title": "Results", "doi": "n/a"}) for n in (1, 2))
    report = empty_index.add(jp.read_papers(lines, format="jsonl"))
    assert report.added == 2 and {"mine-1", "mine-2"} <= {p.id for p in empty_index}


def test_keys_stay_unique_however_many_share_a_base(empty_index):
    empty_index.add(jp.Paper(title="Deep thing", authors=["Jo Key"], year=2020, abstract=str(n)) for n in range(40))
    keys = [p.key for p in empty_index]
    assert len(keys) == 40 and len(set(keys)) == 40


def test_a_bib_entry_that_gains_a_doi_stays_one_paper_with_its_key(empty_index, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{gamma, title={Gamma rays}, author={Ray, Gam}, journal={J}, year=2001}\n")
    empty_index.add(jp.read_papers(bib))
    bib.write_text("@article{gamma, title={Gamma rays}, author={Ray, Gam}, journal={J}, year=2001, doi={10.1000/gamma}}\n")
    report = empty_index.add(jp.read_papers(bib))
    assert (report.added, report.updated) == (0, 1) and len(empty_index) == 1
    paper = empty_index.get("10.1000/gamma")
    assert paper.key == "gamma" and paper.id == "gamma" and paper.doi == "10.1000/gamma"


def test_the_same_file_read_twice_is_unchanged(empty_index, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a, title={A}, year=2001}\n@article{b, title={B}, year=2002}\n")
    empty_index.add(jp.read_papers(bib))
    again = empty_index.add(jp.read_papers(bib.read_text(), format="bibtex"))  # another route: the text itself
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


# --- references.bib ----------------------------------------------------------------------
WRITER = """
import sys, jupyter_papers as jp
papers = [jp.Paper(title=f"Shared paper {n}", authors=["Ann Writer"], year=2020, doi=f"10.5555/{n}") for n in range(60)]
jp.write_bibliography(papers, sys.argv[1])
"""


def test_processes_writing_one_bib_at_once_write_each_paper_once(tmp_path):
    path = tmp_path / "references.bib"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path)]) for _ in range(4)]
    assert all(w.wait(120) == 0 for w in writers)
    entries = bibtexparser.parse_string(path.read_text()).entries
    assert len(entries) == 60 and len({e.key for e in entries}) == 60


def test_a_killed_bib_write_leaves_the_old_file_or_the_new_one(tmp_path):
    mine = "@misc{mine, title={Mine}}\n"
    big = WRITER.replace("range(60)", "range(40000)")
    path = tmp_path / "timed.bib"
    started = time.monotonic()
    assert subprocess.run([sys.executable, "-c", big, str(path)]).returncode == 0
    duration = time.monotonic() - started
    chance = random.Random(5)
    for trial in range(8):
        path = tmp_path / f"references{trial}.bib"
        path.write_text(mine)
        writer = subprocess.Popen([sys.executable, "-c", big, str(path)])
        time.sleep(chance.uniform(0.2, duration * 1.2))
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        text = path.read_text()
        assert text.startswith(mine)
        library = bibtexparser.parse_string(text)
        assert not library.failed_blocks and len(library.entries) in (1, 40001), "never a truncated file"
        jp.write_bibliography([jp.Paper(title="After", year=2021)], path)
        assert not list(tmp_path.glob(f".{path.name}.*.tmp")), "what a killed write left is cleared"


def test_a_write_that_fails_half_way_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "references.bib"
    path.write_text("@misc{mine, title={Mine}}\n")
    before = path.read_bytes()

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        jp.write_bibliography([jp.Paper(title=f"P {n}", year=2020) for n in range(100)], path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["references.bib"]


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if text.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_killed_cli_import_leaves_no_worker_behind(tmp_path):
    papers = write_jsonl(tmp_path / "many.jsonl", 0, 20000)
    index = tmp_path / "killed-import-index"
    importer = cli("--index", str(index), "add", str(papers))
    deadline = time.monotonic() + 60
    while len(_processes_mentioning(str(index))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # the parent and its two workers are running
    assert len(_processes_mentioning(str(index))) >= 3, "the import runs one worker per core"
    time.sleep(1.0)
    importer.send_signal(signal.SIGKILL)
    importer.wait(30)
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(index)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(index)) == [], "the workers died with the import"
    again = cli("--index", str(index), "add", str(write_jsonl(tmp_path / "few.jsonl", 0, 300)))
    assert again.wait(120) == 0, again.stderr.read()
    assert count(index) == 300


# --- the server ----------------------------------------------------------------------------
def test_a_server_told_to_stop_during_a_long_upload_stops_at_once(tmp_path):
    """SIGTERM while a 30 MB upload is being read (about half a minute of work): the server
    used to wait for the read to end; the index it leaves opens and holds no partial import."""
    entry = "@article{{key{n},\n  author = {{Ann Author and Bob Writer}},\n  title = {{Paper {n} on things}},\n" \
            "  journal = {{Journal of Things}},\n  year = {{2020}},\n}}\n"
    body = "".join(entry.format(n=n) for n in range(200_000)).encode()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "JUPYTER_PAPERS_HOME": str(tmp_path / "home"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = tmp_path / "server.log"
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
                               "--ip=127.0.0.1", "--ServerApp.token=t", f"--ServerApp.root_dir={tmp_path}",
                               "--allow-root"], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/jupyter-papers"

    def call(path, data=None, timeout=60):
        request = urllib.request.Request(f"{url}/{path}", data=data, method="POST" if data else "GET",
                                         headers={"Authorization": "token t"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    try:
        for _ in range(120):
            try:
                assert call("search?q=rope")["total"] > 0  # the demo index is built
                break
            except OSError:
                time.sleep(0.5)
        before = call("search?q=")["total"]
        def send():
            with contextlib.suppress(OSError):  # the stopping server closes the connection
                call("papers?filename=big.bib", body, 600)

        upload = threading.Thread(target=send, daemon=True)
        upload.start()
        time.sleep(4)
        assert upload.is_alive(), "the upload is still being read when the server is told to stop"
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        assert time.monotonic() - stopping < 15, log.read_text()[-2000:]
    finally:
        server.kill()
    with jp.open_index(tmp_path / "home" / "index") as index:
        assert len(index) == before


# --- keys that never break (issue 29) ----------------------------------------------------------
VASWANI = """@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki and Uszkoreit, Jakob and Jones, Llion and
            Gomez, Aidan N. and Kaiser, Lukasz and Polosukhin, Illia},
  journal = {arXiv preprint}, year = {2017}, eprint = {1706.03762}, archiveprefix = {arXiv}
}
"""
DUPLICATE = """@article{vaswani2017attention_dup,
  title = {Attention Is All You Need}, author = {Vaswani, Ashish and Shazeer, Noam}, year = {2017},
  eprint = {1706.03762}, archiveprefix = {arXiv}, pages = {5998--6008}
}
"""


def test_the_same_paper_under_another_key_keeps_its_key_authors_and_gains_an_alias(empty_index, tmp_path):
    (tmp_path / "main.bib").write_text(VASWANI)
    (tmp_path / "extra.bib").write_text(DUPLICATE)
    empty_index.add(jp.read_papers(tmp_path / "main.bib"))
    report = empty_index.add(jp.read_papers(tmp_path / "extra.bib"))
    assert len(empty_index) == 1
    paper = empty_index.get("vaswani2017attention")
    assert paper is not None and paper.key == "vaswani2017attention", "a key a notebook cites keeps resolving"
    assert len(paper.authors) == 8, "never fewer authors"
    assert empty_index.get("vaswani2017attention_dup").id == paper.id, "the new key resolves to the same paper"
    assert paper.csl.get("page") == "5998-6008", "what the new record adds is kept"
    assert any("vaswani2017attention_dup is now an alias of vaswani2017attention" in line for line in report.merged)
    entry = jp.write_bibliography([empty_index.get("vaswani2017attention")], tmp_path / "refs.bib")
    assert entry.added == ["vaswani2017attention"]
    written = (tmp_path / "refs.bib").read_text()
    assert "ids = {vaswani2017attention_dup}" in written
    import pypandoc
    keys = [item["id"] for item in json.loads(pypandoc.convert_file(str(tmp_path / "refs.bib"), "csljson",
                                                                   format="bibtex"))]
    assert keys == ["vaswani2017attention"]


def test_keys_are_kept_as_written_in_any_script_and_at_any_length(empty_index, tmp_path):
    long_key = "averyverylongkey" * 8
    (tmp_path / "keys.bib").write_text(
        "@book{Болтянский1968, title = {Задачи и теоремы}, author = {Болтянский, В.}, year = {1968}}\n"
        f"@misc{{{long_key}, title = {{A long key}}, year = {{2020}}}}\n", encoding="utf-8")
    empty_index.add(jp.read_papers(tmp_path / "keys.bib"))
    assert empty_index.get("Болтянский1968").key == "Болтянский1968"
    assert empty_index.get(long_key).key == long_key and len(long_key) == 128
    assert jp.cite(empty_index.get("Болтянский1968"), style="pandoc") == "[@Болтянский1968]"
