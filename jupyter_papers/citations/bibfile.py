"""BibTeX written from the paper record, and a references.bib kept up to date.

Entries are written so that pandoc, biber and BibTeX all read them back: the right entry
type and fields for each CSL item type, DOIs and URLs verbatim, math as ``$...$``, words
whose case matters braced, UTF-8 text. A user's file keeps its bytes, encoding and line
endings; writes go to a temporary file renamed over the old one, under a lock.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .latex import MATH
from .texmath import braces_nest, is_safe_math
from ..cslitem import checked_variables
from ..paper import Name, Paper, key_suffixes, normalize_arxiv_id, normalize_doi, valid_key
from ..sources import decode_as
from ..sources.bibtex import LANGUAGES

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# BibTeX counts every brace, escaped or not, to find a value's end: braces that do not nest
# are written as commands whose own braces do.
_UNBALANCED_SPECIAL = {**_LATEX_SPECIAL, "{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
# a capital inside a word (RoPE, GLM-130B, BERT), not one after a hyphen (Higher-Dimensional,
# X-Ray: title case, which sentence case lowers)
_CASE_MATTERS = re.compile(r"[^-‐‑][A-Z]")
# A DOI or URL written verbatim: nothing that could end the field or the entry, start a
# command, or spell one with TeX's ^^ escapes.
_VERBATIM_SAFE = re.compile(r"^[^\s{}\\\"^]+$")
LOCK_TIMEOUT = 60.0
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_LANGIDS = {tag: name for name, tag in reversed(LANGUAGES.items())}  # en-US -> english, the first name


class BibliographyError(ValueError):
    """The .bib file cannot be appended to safely; the message names the line."""


def escape_latex(text: str) -> str:
    """Text as a LaTeX/BibTeX value renders it: specials escaped, so that nothing in it runs
    a TeX command; math spans kept as math only when they are harmless (texmath.py)."""
    special = _LATEX_SPECIAL if braces_nest(text) else _UNBALANCED_SPECIAL
    pieces = MATH.split(text)
    return "".join(piece if index % 2 and is_safe_math(piece) else "".join(special.get(c, c) for c in piece)
                   for index, piece in enumerate(pieces))


def _nocase_spans(value: str) -> tuple[str, list[tuple[int, int]]]:
    """A CSL value's text, and where its ``<span class="nocase">`` spans lie in that text."""
    plain, spans, position = "", [], 0
    for match in re.finditer(r'<span class="nocase">(.*?)</span>', value):
        plain += _plain(value[position:match.start()])
        spans.append((len(plain), len(plain) + len(match.group(1))))
        plain += match.group(1)
        position = match.end()
    return plain + _plain(value[position:]), spans


def _covered(word: re.Match, spans: list[tuple[int, int]]) -> bool:
    """Whether a span covers the word, in whole or part (a span on part of a word protects it)."""
    return any(start < word.end() and word.start() < end for start, end in spans)


# Marks around a word to be braced, put in before escaping (they are no LaTeX special)
_OPEN, _CLOSE = "\ue000", "\ue001"


def _marked_where_protected(title: str, plain: str, spans: list[tuple[int, int]]) -> tuple[str, set[str]]:
    """The title with its words in lower case that the source protected (``spans`` of the
    sentence-cased ``plain``) marked where they stand ("Synthesis and ... {and}": only the
    second), when ``plain`` is the title letter for letter; else the set of such words, to
    brace wherever they are."""
    kept = [word for word in re.finditer(r"\w+", plain) if _covered(word, spans) and word.group().islower()]
    if plain.lower() != title.lower():
        return title, {word.group() for word in kept}
    math = [m.span() for m in MATH.finditer(title)]
    marked, position = [], 0
    for word in kept:
        if not any(start <= word.start() < end for start, end in math):
            marked += [title[position:word.start()], _OPEN, title[word.start():word.end()], _CLOSE]
            position = word.end()
    return "".join(marked) + title[position:], set()


def _protected_title(paper: Paper, title: str, sentence_cased: str = "") -> str:
    """Braces around the words whose case must survive a style's recasing: inner capitals
    and acronyms ("RoPE", "GLM-130B"), and, where the source told us (a BibTeX title in
    sentence case), the words it kept capitalised (proper nouns) or protected."""
    plain, spans = _nocase_spans(sentence_cased)
    # the words it protected (a span on part of a word protects the word), and those it kept
    # capitalised but for the ones sentence case capitalises anyway: the first, and the
    # first after a colon or a full stop
    proper = set(re.findall(r"(?<![:.]\s)(?<!^)\b\w+", plain)) if plain else set()
    proper.update(word.group() for word in re.finditer(r"\w+", plain) if _covered(word, spans))
    title, kept = _marked_where_protected(title, plain, spans)

    def protect(match):
        return "-".join(f"{{{word}}}" if _CASE_MATTERS.search(word) or word in kept or (
            word in proper and word[:1].isupper()) else word for word in match.group().split("-"))

    pieces = MATH.split(escape_latex(title))
    if re.fullmatch(r'<span class="nocase">((?:(?!</span>).)*)</span>', sentence_cased, re.S):
        return "{" + "".join(pieces).replace(_OPEN, "").replace(_CLOSE, "") + "}"  # kept whole ({{...}})
    return "".join(piece if index % 2 else re.sub(f"(?<![\\\\\\w{_OPEN}])[^\\W_][\\w-]*", protect, piece)
                   for index, piece in enumerate(pieces)).replace(_OPEN, "{").replace(_CLOSE, "}")


def bibtex_name(name: Name) -> str:
    """"von Last, Jr, First", family names of several words braced; organisations braced whole."""
    parts = name.parts
    if parts.get("literal") == "others":
        return "others"
    if "literal" in parts or "family" not in parts:
        return "{" + escape_latex(str(name)) + "}"
    family = escape_latex(parts["family"])
    if " " in family:
        family = "{" + family + "}"
    particle = " ".join(escape_latex(parts[p]) for p in ("dropping-particle", "non-dropping-particle") if p in parts)
    last = f"{particle} {family}" if particle else family
    pieces = [last] + ([escape_latex(parts["suffix"])] if "suffix" in parts else []) + (
        [escape_latex(parts["given"])] if "given" in parts else [])
    if len(pieces) == 2 and "suffix" in parts:  # "King, Jr." alone would read "Jr." as the given name
        pieces.append("")
    return ", ".join(pieces)


DIALECTS = ("bibtex", "biblatex")
# CSL types biblatex has an entry type of its own for (BibTeX's styles know none of these)
_BIBLATEX_TYPES = {"software": "software", "dataset": "dataset", "webpage": "online", "post": "online",
                   "post-weblog": "online", "entry-encyclopedia": "inreference", "entry-dictionary": "inreference",
                   "patent": "patent", "periodical": "periodical", "motion_picture": "movie", "song": "audio",
                   "graphic": "image", "personal_communication": "letter", "report": "report", "thesis": "thesis",
                   "standard": "standard", "legal_case": "jurisdiction", "legislation": "legislation"}


def entry_type(paper: Paper, dialect: str = "bibtex") -> str:
    """The entry type for the paper's CSL type, in BibTeX's set or biblatex's larger one."""
    kind = paper.type
    if dialect == "biblatex" and kind in _BIBLATEX_TYPES:
        return _BIBLATEX_TYPES[kind]
    if kind in ("article-journal", "article-magazine", "article-newspaper", "periodical"):
        return "article"
    if kind == "paper-conference":
        return "inproceedings" if paper.venue else "misc"
    if kind == "chapter":
        return "incollection" if paper.venue else "inbook"
    if kind == "thesis":
        return "mastersthesis" if "master" in str(paper.csl.get("genre", "")).lower() else "phdthesis"
    return {"book": "book", "report": "techreport", "manuscript": "unpublished", "pamphlet": "booklet"}.get(
        kind, "misc")


def _fields(paper: Paper, kind: str, dialect: str = "bibtex") -> list[tuple[str, str]]:
    biblatex = dialect == "biblatex"
    csl = checked_variables(paper.csl)[0]  # records indexed before they were checked on reading
    text = lambda name: escape_latex(str(csl[name])) if csl.get(name) else ""  # noqa: E731
    # one volume of a work in several: CSL's title is the work's, volume-title this one's
    own_title = csl.get("volume-title") if csl.get("volume-title") and paper.type != "chapter" else csl.get("title")
    fields = [("title", _protected_title(paper, paper.title, str(own_title or "")))] if paper.title else []
    if paper.authors:
        fields.append(("author", " and ".join(bibtex_name(n) for n in paper.authors)))
    if paper.editors:
        fields.append(("editor", " and ".join(bibtex_name(n) for n in paper.editors)))
    if biblatex:  # one date field, as precise as the source (year and month are its legacy forms)
        fields.append(("date", _dated(csl.get("issued"), always=True) or str(paper.year or "")))
    else:
        date = (csl.get("issued") or {}).get("date-parts", [[]])
        if paper.year:
            fields.append(("year", str(paper.year)))
        if date and len(date[0]) > 1 and str(date[0][1]).isdigit() and 1 <= int(date[0][1]) <= 12:
            fields.append(("month", _MONTHS[int(date[0][1]) - 1]))  # the macro every BibTeX style knows
        if _dated(csl.get("issued")):  # a day, or a range: biblatex's date (BibTeX styles keep year and month)
            fields.append(("date", _dated(csl["issued"])))
    if paper.venue:
        venue_field = {"article": "journaltitle" if biblatex else "journal", "jurisdiction": "journaltitle",
                       "inproceedings": "booktitle", "incollection": "booktitle", "inreference": "booktitle"}.get(
            kind, "howpublished")
        fields.append((venue_field, _protected_title(paper, paper.venue, str(csl.get("container-title", "")))))
    publisher = {"phdthesis": "school", "mastersthesis": "school", "techreport": "institution", "thesis": "institution",
                 "report": "institution"}.get(kind, "publisher")
    number = csl.get("issue") if kind == "article" else csl.get("number") or csl.get("collection-number")
    for name, value in (("volume", text("volume")), ("number", escape_latex(str(number or ""))),
                        ("pages", escape_latex(str(csl.get("page", ""))).replace("-", "--").replace("----", "--")),
                        ("series", _protected_csl(paper, csl.get("collection-title"))),
                        ("maintitle", _main_title(paper, csl)),
                        ("edition", text("edition")), (publisher, _name_list(csl.get("publisher"))),
                        ("location" if biblatex else "address", _name_list(csl.get("publisher-place"))),
                        ("type", text("genre")), ("pagetotal", text("number-of-pages")),
                        ("chapter", text("chapter-number")), ("isbn", text("ISBN")), ("issn", text("ISSN")),
                        ("note", text("note")), ("shorttitle", text("title-short")),
                        ("shortjournal", text("container-title-short")),
                        ("venue" if biblatex else "location", text("event-place")),
                        ("version", text("version")), ("volumes", text("number-of-volumes")),
                        ("annotation", text("annote")), ("pmid", text("PMID")),
                        ("langid", _LANGIDS.get(str(csl.get("language", "")), "")),
                        ("urldate", _dated(csl.get("accessed"), always=True)),
                        ("origdate", _dated(csl.get("original-date"), always=True))):
        if value:
            fields.append((name, value))
    if paper.doi and _VERBATIM_SAFE.match(paper.doi):
        fields.append(("doi", paper.doi))  # verbatim in biblatex; pandoc and BibTeX styles read it as is
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("eprinttype" if biblatex else "archiveprefix", "arXiv")]
        if paper.extra.get("primaryclass"):
            fields.append(("eprintclass" if biblatex else "primaryclass",
                           escape_latex(" ".join(paper.extra["primaryclass"].split()))))
    if paper.url.startswith(("http://", "https://")) and _VERBATIM_SAFE.match(paper.url):
        fields.append(("url", paper.url))  # never one made of the DOI or the arXiv id: those are written
    if paper.keywords:
        fields.append(("keywords", escape_latex(", ".join(paper.keywords))))
    for bib, role in (("translator", "translator"), ("bookauthor", "container-author")):
        if csl.get(role):
            fields.append((bib, " and ".join(bibtex_name(Name.from_csl(n)) for n in csl[role])))
    if paper.abstract:
        fields.append(("abstract", escape_latex(paper.abstract)))
    return fields


def _main_title(paper: Paper, csl: dict) -> str:
    """The title of the work in several volumes one volume of which this is (CSL holds the
    volume's title as volume-title, the work's as the title or, for a chapter, the container's)."""
    if not csl.get("volume-title"):
        return ""
    return _protected_csl(paper, csl.get("container-title" if paper.type == "chapter" else "title"))


def _protected_csl(paper: Paper, value) -> str:
    """A CSL title (its case protection in markup) as a BibTeX value, protected as it says."""
    return _protected_title(paper, _plain(value), str(value or ""))


def _plain(value) -> str:
    """A CSL value's text without its markup (its case protection is passed apart)."""
    return re.sub(r"<[^>]+>", "", str(value or ""))


def _name_list(value) -> str:
    """Publishers or places ("A; B", as CSL lists them) as biblatex lists them ("A and B"),
    a name that holds "and" itself in braces, so that no reader splits it."""
    if not value:
        return ""
    return " and ".join(f"{{{escape_latex(part)}}}" if re.search(r"\sand\s", part) else escape_latex(part)
                        for part in (p.strip() for p in str(value).split(";")) if part)


def _dated(date: dict | None, always: bool = False) -> str:
    """A CSL date as biblatex writes it (``2004-10-27``, ``1984/1986``): when it says more
    than a year and a month, or ``always``."""
    parts = (date or {}).get("date-parts") or []
    if not parts or not all(isinstance(p, list) and p and all(str(n).isdigit() for n in p) for p in parts):
        return ""
    if not always and len(parts) == 1 and len(parts[0]) < 3:
        return ""
    return "/".join("-".join(f"{int(n):02d}" if i else str(n) for i, n in enumerate(p)) for p in parts)


def bibtex_entry(paper: Paper, key: str | None = None, aliases: Iterable[str] = (), dialect: str = "bibtex") -> str:
    """An entry of the right type, readable by pandoc, biber and BibTeX; with ``dialect``
    biblatex, in biblatex's own types and fields (@software, @online, journaltitle, date),
    which biber and pandoc read and BibTeX's styles do not. ``aliases``: other keys the
    paper is cited by (an arXiv id), written as biblatex's ``ids``, which pandoc and biber
    resolve."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    kind = entry_type(paper, dialect)
    fields = _fields(paper, kind, dialect)
    aliases = sorted({valid_key(a) for a in (*aliases, *paper.aliases)} - {"", key or paper.key})
    if aliases:
        fields.append(("ids", ", ".join(aliases)))
    body = ",\n".join(f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
                      for name, value in fields)
    return f"@{kind}{{{key or paper.key or paper.base_key()},\n{body}\n}}"


# --- references.bib -------------------------------------------------------------------------
@dataclass
class BibliographyReport:
    path: Path
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)   # paper id -> key to cite it by
    empty: list[str] = field(default_factory=list)       # ids of papers with nothing to cite, not written


def unclosed_entry_line(text: str) -> int | None:
    """The line of an entry whose braces never close (appending after it would put our
    entries inside it), or None."""
    depth, opened_at, line = 0, None, 1
    for position, char in enumerate(text):
        if char == "\n":
            line += 1
        elif char in "{}" and position and text[position - 1] == "\\":
            continue
        elif char == "{":
            if depth == 0:
                opened_at = line
            depth += 1
        elif char == "}" and depth:
            depth -= 1
    return opened_at if depth else None


def _existing(text: str):
    """Keys taken, and the key of each identity (DOI, arXiv id) the file holds."""
    import bibtexparser

    library = bibtexparser.parse_string(text) if text.strip() else None
    taken: dict[str, object] = {}
    by_identity: dict[str, str] = {}
    for entry in library.entries if library else []:
        fields = {f.key.lower(): f.value for f in entry.fields if isinstance(f.value, str)}
        taken[entry.key.lower()] = fields
        doi = (normalize_doi(fields.get("doi", "").strip("{}")) or "").lower()
        arxiv = normalize_arxiv_id(fields.get("eprint", "").strip("{}"))
        for identity in (f"doi:{doi}" if doi else "", f"arxiv:{arxiv}" if arxiv else ""):
            if identity:
                by_identity.setdefault(identity, entry.key)
    return taken, by_identity


def _same_paper(paper: Paper, fields: dict) -> bool:
    """An entry under the paper's own key is the paper unless its identifiers or title say otherwise."""
    doi = (normalize_doi(fields.get("doi", "").strip("{}")) or "").lower()
    arxiv = normalize_arxiv_id(fields.get("eprint", "").strip("{}"))
    if (doi and paper.doi and doi != paper.doi.lower()) or (arxiv and paper.arxiv_id and arxiv != paper.arxiv_id):
        return False
    words = lambda text: re.sub(r"[^a-z0-9]+", "", text.lower())  # noqa: E731
    return not fields.get("title") or words(fields["title"]) == words(escape_latex(paper.title)) or (
        words(fields["title"]) == words(paper.title))


def _check_reads_back(path: Path, addition: str, added: list[str]) -> None:
    """Refuse a write whose entries would not read back as written (bibtexparser): the
    user's .bib is theirs, and a file that stops parsing loses every entry after the break.
    What is already there is not read again: an unclosed entry was refused before, so the
    new entries cannot fall into an old one."""
    import bibtexparser

    library = bibtexparser.parse_string(addition)
    if [entry.key for entry in library.entries] != added or library.failed_blocks or not braces_nest(addition):
        raise BibliographyError(f"{path}: the entries for {', '.join(added)} would not read back as written; "
                                "the file was left as it was")


def _lock(path: Path):
    """The lock of one .bib file, in a folder only this user can write: in the shared temp
    folder, anyone who creates the lock file first would block every write of the .bib,
    or plant a link there."""
    from filelock import FileLock

    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return FileLock(str(_private_folder() / f"bib-{digest}.lock"), timeout=LOCK_TIMEOUT)


def _private_folder() -> Path:
    """Our folder in the user's runtime directory (else cache directory), made readable and
    writable by the user alone, and refused if it is a link or someone else's."""
    import platformdirs

    tried, bases = [], [platformdirs.user_cache_dir("jupyter-papers")]
    if os.environ.get("XDG_RUNTIME_DIR") or sys.platform in ("darwin", "win32"):  # else a guess in the shared /tmp
        bases.insert(0, platformdirs.user_runtime_dir("jupyter-papers"))
    for base in bases:
        folder = Path(base) / "locks"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.lstat()
        except OSError as error:
            tried.append(f"{folder} ({error.strerror})")
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077:
            return folder
        tried.append(f"{folder} (not a private folder of this user)")
    raise BibliographyError("No private folder for the .bib file's lock: " + "; ".join(tried))


def _encoded(text: str, encoding: str) -> bytes:
    """Text in the file's own encoding; characters it cannot hold as LaTeX (``\\'e``)."""
    from pylatexenc.latexencode import unicode_to_latex

    return "".join(c if c.encode(encoding, "ignore") else unicode_to_latex(c) for c in text).encode(encoding)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``: a reader
    or a crash sees the old file or the new one, never half of one. Where ``path`` is a
    symbolic link, its target is what is replaced."""
    path = Path(os.path.realpath(path))  # a link (to a shared library, say) stays a link: its target is written
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_BIBLATEX_MARKS = re.compile(r"databaseType:\s*biblatex|^\s*@(?:online|software|dataset|thesis|report|inreference)\s*\{"
                             r"|^\s*(?:journaltitle|eprinttype|urldate)\s*=", re.I | re.M)


def dialect_of(text: str) -> str:
    """The dialect a .bib file is written in: biblatex when it uses biblatex's own types or
    fields (or JabRef says so), else BibTeX, which every tool reads."""
    return "biblatex" if _BIBLATEX_MARKS.search(text) else "bibtex"


def write_bibliography(papers, path: str | Path = "references.bib",
                       aliases: dict[str, list[str]] | None = None, dialect: str | None = None) -> BibliographyReport:
    """Append the papers missing from a .bib file, matched by identity (DOI, arXiv id, or
    the paper's own key), never by title; every entry already there stays byte for byte.
    ``aliases``: paper id -> other keys a notebook cites it by. ``dialect``: bibtex or
    biblatex; by default the file's own (a new file: BibTeX). Returns the key each paper
    is cited by there."""
    path = Path(path)
    report = BibliographyReport(path)
    with _lock(path):
        target = Path(os.path.realpath(path))
        for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a write that was killed
            stale.unlink(missing_ok=True)
        raw = path.read_bytes() if path.exists() else b""
        existing, encoding = decode_as(raw)
        unclosed = unclosed_entry_line(existing)
        if unclosed is not None:
            raise BibliographyError(f"{path}:{unclosed}: this entry is never closed (a missing '}}'); "
                                    "fix it before adding references after it")
        taken, by_identity = _existing(existing)
        dialect = dialect or dialect_of(existing)
        numbering: dict = {}
        new_entries = []
        for paper in papers:
            if not paper.citable:
                report.empty.append(paper.id)
                continue
            identities = [f"doi:{paper.doi.lower()}" if paper.doi else "", f"arxiv:{paper.arxiv_id}" if paper.arxiv_id else ""]
            found = next((by_identity[i] for i in identities if i in by_identity), None)
            own = paper.key or paper.base_key()
            if found is None and own.lower() in taken and _same_paper(paper, taken[own.lower()]):
                found = own
            if found:
                report.present.append(found)
                report.keys[paper.id] = found
                continue
            suffixes = numbering.setdefault(own.lower(), key_suffixes())  # resumed: linear, not quadratic
            key = next(own + s for s in suffixes if (own + s).lower() not in taken)
            taken[key.lower()] = {"title": paper.title, "doi": paper.doi, "eprint": paper.arxiv_id}
            by_identity.update({i: key for i in identities if i})
            new_entries.append(bibtex_entry(paper, key=key, aliases=(aliases or {}).get(paper.id, ()),
                                            dialect=dialect))
            report.added.append(key)
            report.keys[paper.id] = key
        if new_entries:
            newline = "\r\n" if "\r\n" in existing else "\n"
            separator = "" if not existing or existing.endswith(newline * 2) else (
                newline if existing.endswith(newline) else newline * 2)
            addition = separator + (newline * 2).join(e.replace("\n", newline) for e in new_entries) + newline
            _check_reads_back(path, addition, report.added)
            write_atomically(path, raw + _encoded(addition, encoding if raw else "utf-8"))
    return report
