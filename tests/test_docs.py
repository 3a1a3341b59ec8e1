"""The documentation (docs/, MyST Markdown) builds with Sphinx, warnings as errors: a
broken link between pages, a missing image or a bad directive fails the suite."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_documentation_builds_without_a_warning(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    pages = {path.stem for path in tmp_path.glob("*.html")}
    assert {"index", "sidebar", "writing", "library", "fulltext", "online", "cli", "tests"} <= pages
    writing = re.sub(r"<[^>]+>", "", (tmp_path / "writing.html").read_text())
    assert "jupyter-papers export paper.ipynb --to html" in writing
    assert list((tmp_path / "_images").glob("lab-*.png")), "the screenshots are in the built pages"


def test_the_readme_points_to_pages_that_exist():
    readme = (ROOT / "README.md").read_text()
    linked = {part.split(")")[0].split("#")[0] for part in readme.split("](docs/")[1:]}
    assert linked and all((ROOT / "docs" / name).is_file() for name in linked), linked
