"""The Binder demo notebook runs top to bottom in a real kernel (nbclient)."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BINDER = Path(__file__).parent.parent / "binder"


def test_demo_notebook_runs_without_errors(tmp_path, papers_home):
    for name in ("demo.ipynb", "my-papers.bib"):
        shutil.copy(BINDER / name, tmp_path / name)
    notebook = nbformat.read(tmp_path / "demo.ipynb", as_version=4)
    # coalesce_streams: one stdout text per cell, as JupyterLab shows it (a busy kernel may
    # flush one print in two messages, which joining with newlines breaks: the likely cause
    # of this test's one CI failure, with no other output changed)
    NotebookClient(notebook, timeout=180, kernel_name="python3", coalesce_streams=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "cited 'Resonance RoPE" in text and "(ieee, key deng2024reflected)" in text
    inline = next(cell for cell in notebook.cells if cell.source.startswith("pandoc = %papers --inline"))
    assert "[@wang2024resonance]\n{cite:p}`wang2024resonance`\n\\citep{wang2024resonance}" in "".join(
        o.get("text", "") for o in inline.outputs), inline.outputs
    assert "my-papers.bib: added 3" in text
    assert "RoFormer: Enhanced Transformer with Rotary Position Embedding" in text
    assert (tmp_path / "references.bib").read_text().count("@") == 2
    results = [o["data"]["text/plain"] for o in outputs if o.output_type == "execute_result"]
    assert any("(2017, 'Attention Is All You Need')" in result for result in results), results
    nbformat.write(notebook, tmp_path / "demo.ipynb")
    listed = subprocess.run([sys.executable, "-m", "jupyter_papers.cli", "bibliography", str(tmp_path / "demo.ipynb")],
                            capture_output=True, text=True, timeout=120)
    assert listed.stdout.strip().endswith("demo.ipynb: 3 cited, 3 in the reference list"), listed
    references = nbformat.read(tmp_path / "demo.ipynb", as_version=4).cells[-1].source
    assert "Vaswani, A." in references and "Su, J." in references and "Wang, S." in references
    first_cite = next(i for i, cell in enumerate(notebook.cells) if "%papers --cite" in cell.source)
    adding = next(i for i, cell in enumerate(notebook.cells) if "%papers --add" in cell.source)
    assert adding < first_cite, "the demo indexes its .bib before it cites: a re-run inserts the same cells"
