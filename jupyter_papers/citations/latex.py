"""LaTeX in paper text, read the way a reader expects: ``\\"o`` is ö, ``\\%`` is %, ``The \\TeX
book`` is "The TeXbook", and math stays math (``$O(n \\log n)$``) for MathJax to render, or
becomes its closest plain text (``$4\\times$`` -> 4×) where nothing renders math.

pylatexenc does the parsing, as it does for bibtexparser; what it lacks for bibliographies
is added here: the TeX logos, and ``%`` as a character (BibTeX values have no comments).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc import latexwalker
from pylatexenc.latexwalker import LatexWalkerError
from pylatexenc.macrospec import MacroSpec

_LOGOS = {"TeX": "TeX", "LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX", "XeTeX": "XeTeX",
          "XeLaTeX": "XeLaTeX", "LuaTeX": "LuaTeX", "ConTeXt": "ConTeXt", "AmS": "AMS", "AMS": "AMS",
          "METAFONT": "METAFONT", "MF": "METAFONT", "MP": "MetaPost", "TUB": "TUGboat", "TUG": "TUG",
          "slash": "/", "textbraceleft": "{", "textbraceright": "}", "textbackslash": "\\"}
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_NEEDS_PARSING = re.compile(r"[\\{}$~]|--")
_SENTENCE_END = re.compile(r"(?<=[.;!?])(\s+)")
# Math spans: $...$, $$...$$, \(...\), \[...\] (not an escaped \$).
MATH = re.compile(r"(?<!\\)(\$\$.+?(?<!\\)\$\$|\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\])", re.S)


# biblatex's markup for quotations and hyphens; \texttt, whose text pylatexenc drops; \url's
# address as text; BibTeX's sorting trick \noopsort{1973c}1981, printed "1981"
_QUOTING = {"mkbibquote": "“%s”", "enquote": "“%s”", "mkbibemph": "%s", "hyphen": "-", "hyphenate": "-",
            "textendash": "–", "textemdash": "—", "nbhyphen": "‑", "texttt": "%s", "url": "%s", "noopsort": ""}
# Math operators keep the space TeX's math spacing gives them ("n \log n" is not "n logn")
_OPERATORS = {name: name + " " for name in (
    "log ln lg exp sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth min max sup inf lim "
    "liminf limsup det dim ker deg gcd hom arg Pr").split()}


@lru_cache(maxsize=2)
def _converter(math_mode: str) -> LatexNodes2Text:
    context = get_default_latex_context_db()
    context.add_context_category(
        "jupyter-papers", prepend=True,
        macros=[MacroTextSpec(name, text) for name, text in {**_LOGOS, **_QUOTING, **_OPERATORS}.items()])
    return LatexNodes2Text(latex_context=context, math_mode=math_mode, strict_latex_spaces=True)


@lru_cache(maxsize=1)
def _parsing_context():
    """The parser's view of macros: biblatex's quoting macros take an argument."""
    context = latexwalker.get_default_latex_context_db()
    context.add_context_category("jupyter-papers", prepend=True,
                                 macros=[MacroSpec(name, "{") for name, text in _QUOTING.items()
                                         if "%s" in text or name == "noopsort"])
    return context


def _convert(text: str, math_mode: str) -> str:
    if not text or not _NEEDS_PARSING.search(text):
        return text
    try:
        walker = latexwalker.LatexWalker(_BARE_PERCENT.sub(r"\\%", text), latex_context=_parsing_context(),
                                         tolerant_parsing=True)
        converted = _converter(math_mode).nodelist_to_text(walker.get_latex_nodes()[0])
    except (LatexWalkerError, IndexError, ValueError, RecursionError):  # text that is not LaTeX after all
        return text
    return converted if "\n" in text else _same_ends(text, " ".join(converted.split()))


# braces around a math span only protect its case ("Star {$\mu$} Herculis"): they go, so that
# the spaces around the math stay (not a macro's argument: \textcolor{red}{$x$})
_BRACED_MATH = re.compile(r"(?<![\\\w}\]])\{(\$[^$]+\$)\}")
# a literal tilde as Mendeley writes it ({\~{}}), which pylatexenc reads as an accent on nothing
_TILDE = re.compile(r"\{?\\~\{\}\}?")


def _unwrapped(text: str) -> str:
    """The text with Mendeley's tildes spelt as LaTeX spells them, and braced math unbraced."""
    if "\\~{}" in text:
        text = _TILDE.sub(r"\\textasciitilde{}", text)
    return _BRACED_MATH.sub(r"\1", text) if "{$" in text else text


def to_text(text: str) -> str:
    """LaTeX markup as Unicode text, math spans kept as written (for MathJax)."""
    text = _unwrapped(text) if text else text
    if not text or not MATH.search(text):
        return _convert(text, "verbatim")
    pieces = MATH.split(text)
    return "".join(piece if index % 2 else spaced(piece, _convert(piece, "verbatim"))
                   for index, piece in enumerate(pieces))


def spaced(piece: str, converted: str) -> str:
    """A piece of a text converted apart (beside math, or beside a brace group of a title),
    with the space or ~ that separates it from its neighbours kept as a space."""
    if not converted:
        return converted
    bare = piece.strip("{}")  # the braces around a math span are not text: "of {{$x$}}" has its space
    edge = lambda char: char.isspace() or char == "~"  # noqa: E731
    return (" " if bare and edge(bare[0]) else "") + converted.strip() + (" " if bare and edge(bare[-1]) else "")


@lru_cache(maxsize=4096)
def to_plain(text: str) -> str:
    """Everything as plain text, math too (``$4\\times$`` -> "4×"): where nothing renders math.
    Kept for the texts shown lately: a search box shows the same top hits key press after
    key press. The parser reads only what needs it, the math and the sentences holding a
    macro: a sentence without one needs none (4.4 -> 2.3 ms an abstract with math, and
    a lone "$" or "&" in prose stays: pylatexenc dropped them)."""
    if not text or not _NEEDS_PARSING.search(text):
        return text
    text = _unwrapped(text)
    pieces = MATH.split(text)
    if any("\\begin" in prose or prose.count("{") != prose.count("}") for prose in pieces[::2]):
        return _convert(text, "text")  # an environment, or math inside a macro's argument
    joined = "".join(_convert(piece, "text") if index % 2 else _plain_sentences(piece)
                     for index, piece in enumerate(pieces))
    return joined if "\n" in text else _same_ends(text, " ".join(joined.split()))


def _plain_sentences(prose: str) -> str:
    """Prose as plain text, sentence by sentence (a sentence ends where no brace is open)."""
    if "\\" not in prose:
        return _plain_prose(prose)
    out, sentence = [], ""
    for part in _SENTENCE_END.split(prose):
        sentence += part
        if sentence.count("{") <= sentence.count("}"):
            out.append(_convert(sentence, "text") if "\\" in sentence else _plain_prose(sentence))
            sentence = ""
    if sentence:
        out.append(_convert(sentence, "text"))
    return "".join(out)


def _plain_prose(text: str) -> str:
    """Text without macros, as pylatexenc reads it: dashes, quotes, ties, braces dropped."""
    return (text.replace("``", "\u201c").replace("''", "\u201d").replace("---", "\u2014").replace("--", "\u2013")
            .replace("~", "\u00a0").replace("{", "").replace("}", ""))


def _same_ends(text: str, converted: str) -> str:
    """``converted`` with the white space ``text`` starts and ends with."""
    return text[: len(text) - len(text.lstrip())] + converted + text[len(text.rstrip()):]
