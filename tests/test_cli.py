import json
import re
import os
import subprocess
import sys

import jupyter_papers as jp

from .conftest import BIB


def run(*args, home):
    env = {**os.environ, "JUPYTER_PAPERS_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "jupyter_papers.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_search_lists_resonance_rope_first_with_highlight(papers_home):
    result = run("search", "rotary position", home=papers_home)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[1].startswith("  1. Resonance RoPE")
    assert "*Rotary* *Position*" in result.stdout


def test_search_typo_suggests(papers_home):
    result = run("search", "schrodinger brige", home=papers_home)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "did you mean: schrodinger bridge"
    assert "Reflected *Schrödinger* *Bridge*" in result.stdout


def test_search_json_and_years(papers_home):
    result = run("search", "diffusion", "--year", "2023", "--json", "--limit", "3", home=papers_home)
    data = json.loads(result.stdout)
    assert result.returncode == 0 and len(data["hits"]) == 3
    assert {h["paper"]["year"] for h in data["hits"]} == {2023}


def test_exit_codes(papers_home):
    assert run("search", "qqqzzzxxxyyy", home=papers_home).returncode == 1
    bad = run("search", "x", "--year", "soon", home=papers_home)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert run("frobnicate", home=papers_home).returncode == 2
    style = run("cite", "2403.00071", "--style", "nope", home=papers_home)
    assert style.returncode == 2 and "unknown citation style" in style.stderr
    assert run("show", "no-such-paper-qqq", home=papers_home).returncode == 1


def test_add_reports_added_and_skipped(papers_home, tmp_path):
    broken = tmp_path / "mixed.bib"
    broken.write_text("@misc{fine, title={A fine entry}}\n@article{bad, title={unclosed\n@misc{fine2, title={Another}}\n")
    result = run("add", str(BIB / "pybtex__xampl.bib"), str(broken), home=papers_home)
    assert result.returncode == 0
    assert "pybtex__xampl.bib: added 36, updated 0, unchanged 0, skipped 0" in result.stdout  # untitled ones too
    assert "mixed.bib: added 2, updated 0, unchanged 0, skipped 1" in result.stdout
    assert "skipped mixed.bib:2: entry skipped" in result.stdout
    assert "Parsing of" not in result.stderr and "line 1" not in result.stderr  # bibtexparser's own count, held back
    assert run("add", str(tmp_path / "missing.bib"), home=papers_home).returncode == 2


def test_show_cite_bib_stats_rebuild(papers_home, tmp_path):
    assert "title: Resonance RoPE" in run("show", "2403.00071", home=papers_home).stdout
    assert run("cite", "2403.00071", "--style", "pandoc", home=papers_home).stdout.strip() == "[@wang2024resonance]"
    assert run("cite", "resonance rope", home=papers_home).stdout.startswith("Wang, S.")
    output = tmp_path / "refs.bib"
    assert run("bib", "2403.00071", "2303.11643", "-o", str(output), home=papers_home).returncode == 0
    assert output.read_text().count("@") == 2
    assert "papers: 139" in run("stats", home=papers_home).stdout
    assert "139 papers" in run("rebuild", home=papers_home).stdout


def test_jupyter_subcommand_is_installed():
    result = subprocess.run(["jupyter", "papers", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "search" in result.stdout


def test_a_file_with_no_papers_is_an_error_in_one_line(papers_home, tmp_path):
    noise = tmp_path / "noise.bib"
    noise.write_bytes(bytes(range(256)) * 12)
    empty = tmp_path / "empty.bib"
    empty.write_text("")
    for path in (noise, empty):
        result = run("add", str(path), home=papers_home)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.strip().splitlines()[-1].startswith(f"{path}: no paper could be read")


def test_add_a_folder_reads_its_files_of_papers(papers_home, tmp_path):
    (tmp_path / "papers" / "more").mkdir(parents=True)
    (tmp_path / "papers" / "mine.bib").write_text("@misc{a, title={A folder paper about lemurs}}\n")
    (tmp_path / "papers" / "more" / "b.jsonl").write_text('{"id": "b", "title": "Another about lemurs"}\n')
    (tmp_path / "papers" / "notes.txt").write_text("not papers")
    result = run("add", str(tmp_path / "papers"), home=papers_home)
    assert result.returncode == 0
    assert "a folder; reading its 2 file(s) of papers (.bib, .jsonl)" in result.stdout
    assert run("search", "lemurs", "--json", home=papers_home).stdout.count('"id"') >= 2


def test_search_into_a_closed_pipe_exits_quietly(papers_home):
    env = {**os.environ, "JUPYTER_PAPERS_HOME": str(papers_home)}
    shell = subprocess.run(f"{sys.executable} -m jupyter_papers.cli search model --limit 50 | head -1",
                           shell=True, capture_output=True, text=True, env=env, timeout=300)
    assert shell.stdout.count("\n") == 1 and "Broken pipe" not in shell.stderr and "Errno" not in shell.stderr


def test_every_option_has_help_and_show_reads_like_a_record(papers_home):
    for command in ("add", "search", "show", "cite", "bib"):
        text = run(command, "--help", home=papers_home).stdout
        options = re.findall(r"^\s+(-[-\w, ]+?|[A-Z]+)\s{2,}(\S.*)$", text, re.M)
        assert options and all(help_text for _, help_text in options), (command, text)
    shown = run("show", "2403.00071", home=papers_home).stdout
    assert "authors: Suyuchen Wang, Ivan Kobyzev" in shown and "code: https://github.com/sheryc" in shown
    assert "{'" not in shown and "[{" not in shown


def test_show_prints_text_not_csl_markup_nor_a_placeholder_source(tmp_path, papers_home):
    bib = tmp_path / "bert.bib"
    bib.write_text("@article{devlin2019bert, title = {{BERT}: Pre-training of deep bidirectional transformers},"
                   " author = {Devlin, Jacob}, year = {2019}}\n")
    index = tmp_path / "ix"
    assert run("--index", str(index), "add", str(bib), home=papers_home).returncode == 0
    with jp.open_index(index) as opened:
        opened.add(jp.read_papers("@misc{pasted2020, title = {Pasted as text}, year = {2020}}\n"))
    shown = run("--index", str(index), "show", "devlin2019bert", home=papers_home).stdout
    assert "<span" not in shown and "BERT: Pre-training" in shown and "source: bert.bib" in shown
    pasted = run("--index", str(index), "show", "pasted2020", home=papers_home).stdout
    assert "<text>" not in pasted and "Pasted as text" in pasted
