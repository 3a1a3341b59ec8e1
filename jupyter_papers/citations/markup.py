"""Paper text made safe for where it lands: Markdown that JupyterLab renders, and links.

Paper text is untrusted: in Markdown it must render as itself (no HTML, no links, no
emphasis), except its harmless math, which stays math for MathJax. HTML is kept out with
backslashes (CommonMark's escapes, read by marked, markdown-it, mistune and pandoc), not
entities, so a cell's source reads as the reference does ("Wang, S., & Liu, B.").

A math delimiter written as text cannot be escaped with a backslash: the Markdown renderer
turns ``\\$`` into ``$``, and a MathJax that then reads the page (nbconvert's HTML, Jupyter
Book) pairs it with the next one and renders what lies between, commands and all. So
delimiters in text (``$``, ``\\(``, ``\\)``, ``\\[``, ``\\]``), and math spans that are not
harmless, are written as code spans: no renderer reads math inside code.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .latex import MATH, to_text
from .texmath import is_safe_math

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|~$<>])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")
_MATH_DELIMITER = re.compile(r"(\$+|\\[()\[\]])")
# An "&" that would start an entity ("&lt;"): the only one to escape; "Smith & Jones" stays
# readable in the cell's source, "<" and ">" are escaped with a backslash like the rest.
_ENTITY_START = re.compile(r"&(?=#?\w+;)")


def escape_markdown(text: str, line_start: bool = False) -> str:
    """Text that renders as itself in Jupyter Markdown: no emphasis, links, HTML or math.
    ``line_start``: the text begins a line, where "- ", "1. " or "> " would start a block."""
    pieces = _MATH_DELIMITER.split(text)
    escaped = "".join(code_span(piece) if index % 2 else _MARKDOWN_SPECIAL.sub(r"\\\1", _ENTITY_START.sub("&amp;", piece))
                      for index, piece in enumerate(pieces))
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", escaped) if line_start else escaped


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, fenced by more backticks than it holds in a row."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def math_for_markdown(span: str) -> str:
    """A math span as MathJax will render it, or its TeX as code when it holds more than
    harmless math (texmath.py): any renderer's MathJax, and LaTeX after nbconvert, read it."""
    return span if is_safe_math(span) else code_span(" ".join(span.split()))


def markdown_with_math(text: str, line_start: bool = False) -> str:
    """Paper text (a title, an abstract) for a Markdown cell: its LaTeX read as text
    (``\\%`` -> %), its inline math kept for MathJax, everything else escaped."""
    pieces = MATH.split(text or "")
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(math_for_markdown(piece))
        else:
            out.append(escape_markdown(to_text(piece), line_start and index == 0))
    return "".join(out)


def safe_url(url: str) -> str:
    """An http(s) URL fit for a Markdown link target, or '' for anything else."""
    if not re.match(r"^https?://", url or "", re.I):
        return ""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")
