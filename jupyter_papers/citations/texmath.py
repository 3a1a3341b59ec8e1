"""Which math from paper text may stay math: an allow-list of TeX math commands.

A title's ``$O(n \\log n)$`` should render as math in JupyterLab, Jupyter Book and an
exported PDF. But math is TeX, and paper text is untrusted: ``$\\input{/etc/passwd}$``
typesets a local file into a PDF, ``$\\href{javascript:...}{x}$`` makes a link in a
renderer whose MathJax has no safe mode, ``^^5cinput`` spells ``\\input`` without a
backslash. So a span stays math only if every command in it is a known-harmless one
(symbols, operators, fonts, accents, spacing) and nothing else in it can change how TeX
reads the rest; anything else is shown as the text it is.
"""

from __future__ import annotations

import re

MAX_MATH = 500  # characters inside one span; longer is not a formula in a title or an abstract

_GREEK = """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi
    Pi Sigma Upsilon Phi Psi Omega"""
_SYMBOLS = """times cdot cdots ldots dots vdots ddots div pm mp ast star circ bullet oplus ominus otimes
    oslash odot cap cup wedge vee setminus sqcup sqcap uplus amalg dagger ddagger wr diamond triangle
    nabla partial infty aleph hbar ell wp Re Im emptyset varnothing forall exists nexists neg lnot
    prime angle surd top bot flat natural sharp clubsuit diamondsuit heartsuit spadesuit backslash
    sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes bigodot bigvee bigwedge
    biguplus bigsqcup"""
_RELATIONS = """le leq ge geq ne neq lt gt equiv approx sim simeq cong propto asymp doteq ll gg subset
    supset subseteq supseteq subsetneq supsetneq in ni notin mid nmid parallel perp models vdash dashv
    prec succ preceq succeq leqslant geqslant lesssim gtrsim coloneqq triangleq not"""
_ARROWS = """to gets rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow
    longrightarrow longleftarrow Longrightarrow Longleftarrow longleftrightarrow mapsto longmapsto
    uparrow downarrow Uparrow Downarrow updownarrow nearrow searrow swarrow nwarrow hookrightarrow
    hookleftarrow rightharpoonup leftharpoonup rightleftharpoons iff implies impliedby"""
_FUNCTIONS = """log ln lg exp sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth max min
    sup inf lim liminf limsup arg deg det dim gcd hom ker Pr mod bmod pmod operatorname argmax argmin"""
_STRUCTURE = """frac dfrac tfrac binom dbinom tbinom sqrt overline underline overbrace underbrace
    widehat widetilde hat tilde bar vec dot ddot acute grave breve check mathring left right big Big
    bigg Bigg bigl bigr Bigl Bigr langle rangle lceil rceil lfloor rfloor lvert rvert lVert rVert vert
    Vert lbrace rbrace quad qquad mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr
    boldsymbol bm text textrm textit textbf mbox emph displaystyle textstyle scriptstyle limits nolimits
    prime cdotp colon stackrel overset underset substack"""
SAFE_COMMANDS = frozenset(" ".join((_GREEK, _SYMBOLS, _RELATIONS, _ARROWS, _FUNCTIONS, _STRUCTURE)).split())
# \{ \} \, \; \: \! \| \_ \% \  : escaped characters and spacing
_SAFE_ESCAPES = frozenset("{},;:!|_% ")
_TOKEN = re.compile(r"\\([A-Za-z]+|.?)")
# What has no place in a formula and changes how TeX or Markdown reads what follows: the
# ^^ escapes, parameters, comments, alignment, active characters, HTML, code, line ends.
_FORBIDDEN = re.compile(r"\^\^|[#%&~<>`\n\r\x00-\x08\x0b-\x1f\x7f]")


def is_safe_math(span: str) -> bool:
    """Whether a ``$...$`` span is a formula made only of harmless TeX (see the module)."""
    if not (len(span) >= 3 and span[0] == span[-1] == "$" and span[1] != "$"):
        return False
    body = span[1:-1]
    if len(body) > MAX_MATH or "$" in body or _FORBIDDEN.search(body.replace("\\%", "")):
        return False
    if not braces_nest(_TOKEN.sub("", body)):
        return False
    for name in _TOKEN.findall(body):
        if not (name in SAFE_COMMANDS or (len(name) == 1 and name in _SAFE_ESCAPES)):
            return False
    return True


def braces_nest(text: str) -> bool:
    """Whether every brace closes one opened before it, and all close (BibTeX counts an
    escaped ``\\{`` too, so callers strip escapes first where TeX's reading matters)."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
