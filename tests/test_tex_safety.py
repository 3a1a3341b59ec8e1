"""Paper text is untrusted: nothing from a record may run a TeX command in an exported PDF
(through the .bib, the cells, or the template), nor carry a link, a style or an HTML id
through math into Markdown; and the .bib file's lock cannot be taken by another user.
Each test is the attack itself, run against the real tools (xelatex, BibTeX, pdftotext)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jupyter_papers as jp
from jupyter_papers.citations.bibfile import escape_latex
from jupyter_papers.citations.markup import code_span, markdown_with_math
from jupyter_papers.citations.texmath import is_safe_math

from .test_exports import notebook_citing, run

SECRET = "PLANTEDSECRETXYZZY"


def hostile_paper(planted: Path) -> jp.Paper:
    """A record whose every text field tries to read ``planted`` when typeset."""
    path = str(planted)
    return jp.Paper(
        id="evil", key="evil2024", year=2024, type="article-journal",
        title=f"Attention $\\input{{{path}}}$ is all $\\csname input\\endcsname{{{path}}}$ you need",
        abstract=f"We show $x^^5cinput{{{path}}}$ and \\input{{{path}}} and $\\catcode`\\^=7 \\input{{{path}}}$.",
        authors=[jp.Name.parse("Mallory, Eve")], venue=f"Journal of \\input{{{path}}} Studies",
        csl={"page": f"12}}\\input{{{path}}}{{", "volume": f"\\input{{{path}}}", "note": f"$\\write18{{cat {path}}}$",
             "publisher": f"{{\\openin1={path} \\read1 to\\x \\x}}"})


@pytest.fixture
def planted(tmp_path):
    secret = tmp_path / "planted.tex"
    secret.write_text(SECRET + "\n")
    return secret


def test_an_exported_pdf_never_holds_a_local_file_a_record_names(tmp_path, empty_index, planted):
    paper = hostile_paper(planted)
    empty_index.add([paper])
    stored = empty_index.get("evil")
    notebook = notebook_citing(tmp_path, "# Draft\n\nAs shown \\citep{evil2024}.", jp.abstract_cell(stored),
                               jp.cite(stored, style="apa", format="markdown"))
    jp.bibliography(notebook, "apa", bib=tmp_path / "references.bib", index=empty_index)
    document = json.loads(notebook.read_text())
    document["metadata"]["bibliography"] = ["references.bib", f"x}}\\input{{{planted}}}\\bibliography{{y"]
    notebook.write_text(json.dumps(document))
    done = run(sys.executable, "-m", "jupyter", "nbconvert", "--to", "latex", "--template", "papers", str(notebook),
               cwd=tmp_path, path_with_pandoc=True)
    assert done.returncode == 0, done.stderr
    tex = (tmp_path / "paper.tex").read_text()
    assert "\\bibliography{references}" in tex
    for step in ("xelatex", "bibtex", "xelatex", "xelatex"):
        command = [step, "paper"] if step == "bibtex" else [step, "-interaction=nonstopmode", "-halt-on-error", "paper"]
        compiled = run(*command, cwd=tmp_path)
        assert compiled.returncode == 0, (compiled.stdout + compiled.stderr)[-3000:]
    text = subprocess.run(["pdftotext", "paper.pdf", "-"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout
    assert SECRET not in text
    assert "Attention" in text and "Mallory" in text, "the paper is typeset, as text"
    assert "input{" in text, "the commands show as the text they are"


@pytest.mark.parametrize("span", [
    "$\\input{/etc/passwd}$", "$\\include{x}$", "$\\openin1=x$", "$\\read1 to\\x$", "$\\write18{ls}$",
    "$\\catcode`\\^=7$", "$\\csname input\\endcsname{x}$", "$^^5cinput{x}$", "$\\def\\x{y}$",
    "$\\href{javascript:alert(1)}{x}$", "$\\style{position:fixed;top:0}{x}$", "$\\class{jp-x}{x}$",
    "$\\cssId{main}{x}$", "$\\unicode{x}$", "$\\mmlToken{mi}[href='javascript:alert(1)']{x}$",
    "$\\require{html}$", "$\\html{x}$", "$\\data{x}$", "$\\mathrm{\\input{x}}$", "$x # y$", "$x % \\input$",
    "$a}\\input{x}{b$", "$\\begin{array}x\\end{array}$", "$x \\\\ y$", "$<img src=x>$", "$\\url{javascript:x}$",
])
def test_math_that_could_run_a_command_is_text(span):
    assert not is_safe_math(span)
    assert code_span(span) in markdown_with_math(f"A {span} title"), "shown as code, never as math"
    assert span not in escape_latex(f"A {span} title")


@pytest.mark.parametrize("span", [
    "$O(n \\log n)$", "$\\alpha$", "$4\\times$", "$\\mathcal{O}(1)$", "$x^2 + y_{i,j}$", "$\\le 10\\%$",
    "$\\frac{1}{2}$", "$\\sqrt{n}$", "$\\mathbb{R}^d$", "$\\left(\\frac{a}{b}\\right)$", "$\\{0, 1\\}^n$",
    "$\\text{softmax}(x)$", "$\\hat{\\theta}$", "$p \\to q$", "$\\ell_1$",
])
def test_harmless_math_stays_math(span):
    assert is_safe_math(span)
    assert span in markdown_with_math(f"A {span} title")
    assert span.split("$")[1] in escape_latex(span)


LOCKER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    # everything imported while still root: the interpreter's files are in root's home
    import bibtexparser, filelock, platformdirs, pylatexenc.latexencode
    import jupyter_papers as jp
    uid = int(sys.argv[1])
    os.setegid(uid); os.seteuid(uid)
    if sys.argv[2] == "attack":  # every name the lock could have, in the shared temp folder and in the victim's
        import hashlib, tempfile
        digest = hashlib.sha1(str(Path(sys.argv[3]).resolve()).encode()).hexdigest()[:16]
        for name in (f"jupyter-papers-bib-{digest}.lock", f"bib-{digest}.lock"):
            Path(tempfile.gettempdir(), name).write_text("")
        try:
            Path(sys.argv[4], "jupyter-papers", "locks").mkdir(parents=True)
            print("planted in the victim's folder")
        except OSError as error:
            print("refused:", error.strerror)
    else:
        report = jp.write_bibliography([jp.Paper(id="p1", key="vaswani2017attention", title="Attention",
                                                 authors=[jp.Name.parse("Vaswani, Ashish")], year=2017)],
                                       sys.argv[3])
        print("added", report.added)
""")


@pytest.fixture
def shared_tmp():
    """A folder other users can reach (pytest's own are the running user's alone)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="jupyter-papers-users-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as two other users (CI runs as root)")
def test_another_user_cannot_take_the_bib_file_s_lock(shared_tmp):
    victim, attacker = 4242, 4343
    tmp_path = shared_tmp
    folder = tmp_path / "victim"
    runtime = folder / "run"
    runtime.mkdir(parents=True, mode=0o700)
    for path in (folder, runtime):
        os.chown(path, victim, victim)
    bib = folder / "references.bib"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}
    script = tmp_path / "locker.py"
    script.write_text(LOCKER)
    attack = subprocess.run([sys.executable, str(script), str(attacker), "attack", str(bib), str(runtime)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert attack.returncode == 0 and "refused" in attack.stdout, attack.stdout + attack.stderr
    write = subprocess.run([sys.executable, str(script), str(victim), "write", str(bib)],
                           env=env, capture_output=True, text=True, timeout=120)
    assert write.returncode == 0, write.stderr
    assert "added ['vaswani2017attention']" in write.stdout
    assert "@article{vaswani2017attention," in bib.read_text() or "@misc{vaswani2017attention," in bib.read_text()
    locks = runtime / "jupyter-papers" / "locks"
    assert locks.stat().st_uid == victim and locks.stat().st_mode & 0o777 == 0o700
