"""Math from paper text rendered by a MathJax that has no safe mode (Jupyter Book's and
nbconvert's HTML load MathJax 3 as it comes): what our cells carry must not make links,
styles, classes or ids, while harmless math still renders as math. The same spans written
raw are the control: this MathJax does act on them."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

import jupyter_papers as jp

from .conftest import new_page, screenshot

MATHJAX = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "mathjax"
SAFE = "$O(n \\log n)$"
HOSTILE = ["$\\href{javascript:alert(1)}{click}$",
           "$\\style{position:fixed;top:0;left:0;width:100%;height:100%;background:red}{x}$",
           "$\\class{jp-evil}{y}$", "$\\cssId{evil-id}{z}$",
           "$\\mmlToken{mi}[href='javascript:alert(2)']{w}$"]
FOUND = """() => ({
    links: [...document.querySelectorAll('#{0} [href]')].map(e => e.getAttribute('href')),
    styled: [...document.querySelectorAll('#{0} [style*="fixed"]')].length,
    classed: document.querySelectorAll('#{0} .jp-evil').length,
    named: document.querySelectorAll('#{0} #evil-id').length,
    math: document.querySelectorAll('#{0} mjx-container').length,
})"""


@pytest.fixture
def served(tmp_path):
    """A folder served on localhost (MathJax loads its extensions and fonts by URL)."""
    (tmp_path / "mathjax").symlink_to(MATHJAX)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_math_in_our_cells_cannot_link_style_or_name_elements_in_a_mathjax_without_safe_mode(browser, served):
    assert (MATHJAX / "es5" / "tex-chtml.js").is_file(), "js/node_modules/mathjax: pip install . (jlpm) puts it there"
    folder, url = served
    paper = jp.Paper(id="evil", title=f"Sorting in {SAFE}", abstract=" and ".join(HOSTILE))
    ours = markdown2html_mistune(jp.abstract_cell(paper))
    control = markdown2html_mistune(f"Sorting in {SAFE}: " + " and ".join(HOSTILE))
    (folder / "page.html").write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<script>window.MathJax = {{tex: {{inlineMath: [['$', '$']]}}}};</script>
<script src="mathjax/es5/tex-chtml.js"></script></head>
<body><h3>Our abstract cell</h3><div id="ours">{ours}</div>
<h3>The same spans, raw</h3><div id="control">{control}</div></body></html>""", encoding="utf-8")
    page = new_page(browser)
    try:
        page.goto(f"{url}/page.html")
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_function("() => document.querySelectorAll('#control mjx-container').length >= 6")
        theirs = page.evaluate(FOUND.replace("{0}", "control"))
        found = page.evaluate(FOUND.replace("{0}", "ours"))
        screenshot(page, "mathjax-without-safe-mode")  # the control's style covers the page
        page.evaluate("() => document.getElementById('control').remove()")
        screenshot(page, "mathjax-our-cell")
    finally:
        page.context.close()
    assert any(link.startswith("javascript:") for link in theirs["links"]), theirs
    assert theirs["styled"] and theirs["classed"] and theirs["named"], theirs
    assert [link for link in found["links"] if not link.startswith("#")] == [], "only the heading's own anchor"
    assert not found["styled"] and not found["classed"] and not found["named"], found
    assert found["math"] == 1, "the harmless formula is still rendered as math"
