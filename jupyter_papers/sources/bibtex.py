"""BibTeX and BibLaTeX through bibtexparser, into CSL-JSON terms the way pandoc's reader
maps them, with what plain bibtexparser leaves undone: ``#`` concatenation, month macros,
crossref inheritance, %-comment lines, names split before their LaTeX is decoded (so
``{World Health Organization}`` stays one organisation), URL and DOI fields kept verbatim.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares.names import split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, Entry

from ..citations.latex import spaced, to_text
from ..paper import Name, Paper, normalize_arxiv_id
from . import NOTHING_TO_CITE, Problem, Report, Source, clean

MAX_VALUE = 100_000  # characters of one field value; past that it is cut (and a macro bomb defused)
@contextmanager
def _quiet_splitter():
    """bibtexparser logs each entry it cannot split, with its own (0-based) line numbers;
    we report the same failures ourselves, with the file's (Problem), so its log is held back."""
    splitter = logging.getLogger("bibtexparser.splitter")
    level = splitter.level
    splitter.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        splitter.setLevel(level)


MAX_FILE = 64 * 2**20  # characters of one .bib file: bibtexparser reads a file whole
MONTHS = {name: str(number) for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# Entry type -> CSL item type (and the genre a thesis type implies), as pandoc maps them.
TYPES = {
    "article": "article-journal", "book": "book", "mvbook": "book", "booklet": "pamphlet",
    "inbook": "chapter", "incollection": "chapter", "inproceedings": "paper-conference",
    "conference": "paper-conference", "manual": "book", "mastersthesis": "thesis", "phdthesis": "thesis",
    "thesis": "thesis", "proceedings": "book", "mvproceedings": "book", "techreport": "report",
    "report": "report", "unpublished": "manuscript", "online": "webpage", "www": "webpage",
    "electronic": "webpage", "dataset": "dataset", "software": "software", "patent": "patent",
    "periodical": "periodical", "collection": "book", "mvcollection": "book", "reference": "book",
    "mvreference": "book", "inreference": "entry-encyclopedia", "standard": "standard", "jurisdiction": "legal_case",
    "legislation": "legislation", "video": "motion_picture", "movie": "motion_picture", "audio": "song",
    "music": "song", "image": "graphic", "artwork": "graphic", "letter": "personal_communication",
    "misc": "document",
}
GENRES = {"mastersthesis": "Master’s thesis", "phdthesis": "PhD thesis"}
# biblatex's localisation keys, as its English strings (what pandoc prints for them)
LOCALISED = {
    "mathesis": "Master’s thesis", "phdthesis": "PhD thesis", "candthesis": "Candidate thesis",
    "techreport": "technical report", "resreport": "research report", "software": "Computer software",
    "datacd": "Data CD", "audiocd": "Audio CD", "patent": "Patent", "patentde": "German patent",
    "patenteu": "European patent", "patentfr": "French patent", "patentuk": "British patent",
    "patentus": "U.S. patent", "patreq": "Patent request", "patreqde": "German patent request",
    "patreqeu": "European patent request", "patreqfr": "French patent request",
    "patrequk": "British patent request", "patrequs": "U.S. patent request", "newseries": "New series",
    "oldseries": "Old series",
}
# biblatex/babel language names -> the BCP 47 tags CSL engines know (English titles are recased)
LANGUAGES = {
    "english": "en-US", "american": "en-US", "usenglish": "en-US", "british": "en-GB", "ukenglish": "en-GB",
    "canadian": "en-CA", "australian": "en-AU", "german": "de-DE", "ngerman": "de-DE", "austrian": "de-AT",
    "naustrian": "de-AT", "swissgerman": "de-CH", "french": "fr-FR", "spanish": "es-ES", "italian": "it-IT",
    "dutch": "nl-NL", "portuguese": "pt-PT", "brazilian": "pt-BR", "russian": "ru-RU", "polish": "pl-PL",
    "swedish": "sv-SE", "norwegian": "nb-NO", "danish": "da-DK", "finnish": "fi-FI", "greek": "el-GR",
    "czech": "cs-CZ", "latin": "la", "japanese": "ja-JP", "chinese": "zh-CN",
}
# LaTeX's \(...\) for inline math, read as the $...$ every other path knows
_INLINE_MATH = re.compile(r"\\\((.+?)\\\)", re.S)
VERBATIM = frozenset({"url", "doi", "eprint", "file", "pdf", "urlraw", "verba", "verbb", "verbc"})
# Plain text fields -> CSL variables (name lists, dates, titles and numbers are mapped apart).
_TEXT_TO_CSL = {
    "volume": "volume", "edition": "edition", "publisher": "publisher", "address": "publisher-place",
    "location": "publisher-place", "isbn": "ISBN", "issn": "ISSN", "note": "note", "chapter": "chapter-number",
    "eventtitle": "event-title", "version": "version", "pagetotal": "number-of-pages", "annotation": "annote",
    "volumes": "number-of-volumes", "abstract": "abstract", "shortjournal": "container-title-short",
    "shorttitle": "title-short", "pmid": "PMID", "pmcid": "PMCID",
}
# The AAS journal macros NASA ADS writes in its exports (journal = {\apj}), as ADS names the
# journals (ui.adsabs.harvard.edu/help/actions/journal-macros)
AAS_JOURNALS = {
    "aj": "Astronomical Journal", "actaa": "Acta Astronomica", "araa": "Annual Review of Astronomy and Astrophysics",
    "apj": "Astrophysical Journal", "apjl": "Astrophysical Journal Letters", "apjs": "Astrophysical Journal Supplement",
    "ao": "Applied Optics", "apss": "Astrophysics and Space Science", "aap": "Astronomy and Astrophysics",
    "aapr": "Astronomy and Astrophysics Reviews", "aaps": "Astronomy and Astrophysics Supplement",
    "azh": "Astronomicheskii Zhurnal", "baas": "Bulletin of the American Astronomical Society",
    "bac": "Bulletin of the Astronomical Institutes of Czechoslovakia", "caa": "Chinese Astronomy and Astrophysics",
    "cjaa": "Chinese Journal of Astronomy and Astrophysics", "icarus": "Icarus",
    "jcap": "Journal of Cosmology and Astroparticle Physics", "jrasc": "Journal of the Royal Astronomical Society of Canada",
    "memras": "Memoirs of the Royal Astronomical Society", "mnras": "Monthly Notices of the Royal Astronomical Society",
    "na": "New Astronomy", "nar": "New Astronomy Review", "pra": "Physical Review A", "prb": "Physical Review B",
    "prc": "Physical Review C", "prd": "Physical Review D", "pre": "Physical Review E", "prl": "Physical Review Letters",
    "pasa": "Publications of the Astronomical Society of Australia",
    "pasp": "Publications of the Astronomical Society of the Pacific",
    "pasj": "Publications of the Astronomical Society of Japan", "rmxaa": "Revista Mexicana de Astronomia y Astrofisica",
    "qjras": "Quarterly Journal of the Royal Astronomical Society", "skytel": "Sky and Telescope",
    "solphys": "Solar Physics", "sovast": "Soviet Astronomy", "ssr": "Space Science Reviews",
    "zap": "Zeitschrift fuer Astrophysik", "nat": "Nature", "iaucirc": "IAU Circulars", "aplett": "Astrophysics Letters",
    "apspr": "Astrophysics Space Physics Research", "bain": "Bulletin Astronomical Institute of the Netherlands",
    "fcp": "Fundamental Cosmic Physics", "gca": "Geochimica Cosmochimica Acta", "grl": "Geophysical Research Letters",
    "jcp": "Journal of Chemical Physics", "jgr": "Journal of Geophysical Research",
    "jqsrt": "Journal of Quantitative Spectroscopy and Radiative Transfer",
    "memsai": "Memorie della Societa Astronomica Italiana", "nphysa": "Nuclear Physics A", "physrep": "Physics Reports",
    "physscr": "Physica Scripta", "planss": "Planetary and Space Science", "procspie": "Proceedings of the SPIE",
}
_AAS_MACRO = re.compile(r"^\s*\{?\s*\\([a-z]+)\s*\}?\s*$")
# What a verbatim field (a URL, a DOI) holds escaped by exporters: \_ and {\&} are _ and &
_VERBATIM_ESCAPES = re.compile(r"\{?\\([_&%#$])\}?|\{?\\~\{\}\}?|\{?\\textasciitilde\{?\}?\}?")
_URL_ONLY = re.compile(r"^\s*(?:\\url\{)?(https?://[^\s{}]+)\}?\s*$")
_VENUES = ("journal", "journaltitle", "booktitle")
_IN_A_BOOK = frozenset({"chapter", "paper-conference", "entry", "entry-dictionary", "entry-encyclopedia"})
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]*(?:preprint\s*)?(?:arxiv[:\s]*)?(\d{4}\.\d{4,5}|[a-z.-]+/\d{7})", re.I)
_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_CAPITALISED = re.compile(r"^[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]*(?:[’'][a-z]+)?$")


def _blank_comment_lines(text: str) -> str:
    """%-lines are comments to biber and biblatex; blank them and keep line numbers."""
    return re.sub(r"(?m)^[ \t]*%.*$", "", text)


def _split_concatenation(expression: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, []
    for char in expression:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        if char == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _resolve(expression: str, strings: dict[str, str]) -> str:
    """Evaluate ``a # "b" # {c}`` with @string and month macros; a macro's value is used
    exactly as defined, blanks included (``" Symposium"``)."""
    pieces = []
    for part in _split_concatenation(expression):
        if len(part) >= 2 and part[0] + part[-1] in ('{}', '""'):
            pieces.append(part[1:-1])
        elif part.lower() in strings:
            pieces.append(strings[part.lower()])
        elif part.lower()[:3] in MONTHS and part.isalpha():
            pieces.append(MONTHS[part.lower()[:3]])
        else:
            pieces.append(part)
    return "".join(pieces)


def _string_definitions(library: Library) -> dict[str, str]:
    """@string macros, each resolved once where it is defined (as BibTeX does: a macro may
    use those defined before it), and each cut at MAX_VALUE characters, so that a few
    hundred bytes of macros doubling each other cannot take minutes and gigabytes."""
    strings: dict[str, str] = {}
    for definition in library.strings:
        expression = re.match(r"@\s*string\s*[{(]\s*[^=]*=\s*(.*?)\s*[})]\s*$", definition.raw or "", re.S | re.I)
        value = _resolve(expression.group(1), strings) if expression else str(definition.value)
        strings[definition.key.lower()] = value[:MAX_VALUE]
    return strings


def _resolve_macros(library: Library, entries: list[Entry]) -> None:
    strings = _string_definitions(library)
    for entry in entries:
        for fld in entry.fields:
            if fld.enclosing == "no-enclosing" or (isinstance(fld.value, str) and fld.value.lower() in MONTHS):
                fld.value = _resolve(fld.value, strings)[:MAX_VALUE]


def _inherit_crossrefs(entries: list[Entry]) -> None:
    """BibTeX's crossref: a child takes the fields it lacks from its parent."""
    by_key = {e.key.lower(): e for e in entries}
    for entry in entries:
        parent = by_key.get(str(entry.fields_dict.get("crossref", "") and entry["crossref"]).lower())
        if parent is None:
            continue
        for fld in parent.fields:
            name = fld.key.lower()
            if name == "title" and "booktitle" not in entry.fields_dict and "booktitle" not in parent.fields_dict:
                entry["booktitle"] = fld.value
            elif name not in {f.key.lower() for f in entry.fields}:
                entry[name] = fld.value


# --- names ---------------------------------------------------------------------------------
def bibtex_name(raw: str) -> Name:
    """One name by BibTeX's rules, its LaTeX read as text once it is split."""
    return Name.parse(raw, decode=to_text)


def bibtex_names(value: str, use_prefix: bool = False) -> list[Name]:
    """The names of a list; ``use_prefix`` (biblatex's option) keeps particles with the
    family name ("van Gennep, A.")."""
    names = [bibtex_name(n) for n in split_multiple_persons_names(value)]
    if use_prefix:
        names = [Name(**{("non-dropping-particle" if k == "dropping-particle" else k): v
                         for k, v in n.parts.items()}) for n in names]
    return [n for n in names if n]


# --- titles ---------------------------------------------------------------------------------
# an accent on a braced letter (\"{o}, \c{c}): a special character, its case not protected
_ACCENTED = re.compile(r"\\(?:[^A-Za-z\s{}]|[cvuHkrdbt])\s*\{[^{}]*\}$")


def _protected_segments(raw: str) -> Iterator[tuple[str, bool]]:
    """The title in pieces, each with whether its case is protected: a brace group
    (``{RoPE}``, but not a special character such as ``{\\"O}``), a command with its
    argument (``\\mkbibquote{De Motu}``), or math."""
    depth, start, position = 0, 0, 0
    while position < len(raw):
        char = raw[position]
        if char == "\\" and raw[position + 1:position + 2] in ("{", "}", "$"):
            position += 2
            continue
        if char == "$" and depth == 0:
            close = raw.find("$", position + 1)
            if close > position:
                yield raw[start:position], False
                yield raw[position:close + 1], True
                start = position = close + 1
                continue
        if char == "{":
            if depth == 0:
                command = re.search(r"\\(?:[A-Za-z]+|[^A-Za-z\s{}])\s*$", raw[start:position])
                opening = start + command.start() if command else position
                yield raw[start:opening], False
                start = opening
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                group = raw[start:position + 1]
                yield group, not (group.startswith("{\\") or _ACCENTED.match(group))
                start = position + 1
        position += 1
    yield raw[start:], False


def _lowered(word: str, exempt: bool) -> str:
    """A word with its capitalised parts (split at hyphens and dashes) lowered; the first
    part stays when the word begins the title or follows a colon."""
    parts = re.split(r"([-–])", word)
    return "".join(part.lower() if index % 2 == 0 and _CAPITALISED.match(part.rstrip(":.,;?!)’'\"")) and (
        index or not exempt) else part for index, part in enumerate(parts))


def _first_url(value: str) -> str:
    """The first of the URLs a url field holds (Mendeley writes them all, space-separated)."""
    urls = value.split()
    return urls[0] if len(urls) > 1 and all(re.match(r"https?://", url) for url in urls) else value


def _top_level_and(raw: str) -> list[str]:
    """The parts of a biblatex list ("A and B"); an "and" inside braces is part of a name."""
    parts, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", raw):
        if match.group() == "{":
            depth += 1
        elif match.group() == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(raw[start:match.start()])
            start = match.end()
    return [part for part in (*parts, raw[start:]) if part.strip()]


def sentence_case(raw: str) -> str:
    """A BibTeX title as CSL expects it (as pandoc converts it): words written with a
    capital and then lower case are lowered, except the first word and the first word
    after a colon (which is capitalised) or a full stop; acronyms and iPhone-like words
    stay; words in braces stay and are marked ``<span class="nocase">``, CSL-JSON's way
    of saying that no style may recase them."""
    out, first = [], True
    for segment, protected in _protected_segments(raw):
        text = to_text(segment) if protected else spaced(segment, to_text(segment))
        if protected:  # kept as CSL-JSON marks it, so that no style recases it either
            out.append(f'<span class="nocase">{text}</span>' if re.search(r"[^\W\d_]", text) else text)
            first = False if text.strip() else first
            continue
        words = re.split(r"(\s+)", text)
        for index, word in enumerate(words):
            if not word or word.isspace():
                continue
            words[index] = _lowered(word, exempt=bool(first))
            if first == ":":
                words[index] = words[index][:1].upper() + words[index][1:]
            first = word[-1] if word.endswith((":", ".")) else False
        out.append("".join(words))
    return _typeset(clean("".join(out)))


def _typeset(text: str) -> str:
    """Apostrophes as LaTeX typesets them (``SESS '06`` -> SESS ’06); a CSL engine would
    read a pair of straight quotes as a quotation."""
    return text.replace("'", "’")


# --- entries --------------------------------------------------------------------------------
def _issued(fields: dict[str, str], get) -> dict | None:
    """The date (``year``/``month``, or biblatex's ``date``, a range ``1984/1986`` too)."""
    date = fields.get("date", "")
    if "/" in date and _DATE.match(date.split("/", 1)[1]):
        start, end = (_issued({"date": part}, lambda name: "") for part in date.split("/", 1))
        if start and end:
            return {"date-parts": [start["date-parts"][0], end["date-parts"][0]]}
    years = re.match(r"^\s*(\d{4})\s*[-–/]+\s*(\d{4})\s*$", get("year"))
    if not date and years:
        return {"date-parts": [[int(years.group(1))], [int(years.group(2))]]}
    match = _DATE.match(date) or _DATE.match(get("year"))
    if not match:
        return None
    parts = [int(match.group(1))]
    month = match.group(2) or MONTHS.get(get("month").lower()[:3]) or (get("month") if get("month").isdigit() else "")
    if month and 1 <= int(month) <= 12:
        parts.append(int(month))
        if match.group(3):
            parts.append(int(match.group(3)))
    return {"date-parts": [parts]}


def _verbatim(value: str) -> str:
    """A URL or DOI as written, without the braces around it and the escapes exporters put
    in (an escaped underscore or ampersand, Mendeley's braced tilde)."""
    value = value.strip("{}")
    if "\\" not in value:
        return value
    return _VERBATIM_ESCAPES.sub(lambda m: m.group(1) or "~", value)


def _arxiv_id(get) -> str:
    if get("archiveprefix").lower() == "arxiv" or get("eprinttype").lower() == "arxiv":
        found = normalize_arxiv_id(get("eprint"))
        if found:
            return found
    for name in ("journal", "note", "url", "eprint"):
        match = _ARXIV_IN_TEXT.search(get(name))
        found = normalize_arxiv_id(match.group(1) if match else get(name))
        if found:
            return found
    return ""


def _attached_pdf(entry: Entry, folder: Path | None) -> str:
    """The first PDF of the entry's ``file`` field that exists on this machine, as Zotero,
    JabRef, Mendeley and Better BibTeX write it: ``Description:path:mime`` items separated
    by ``;`` (``\\:`` for a colon in the path), or a bare path; relative to the .bib file."""
    field = entry.fields_dict.get("file") or entry.fields_dict.get("pdf")
    if field is None or not isinstance(field.value, str) or folder is None:
        return ""
    for item in re.split(r"(?<!\\);", field.value.strip("{}")):
        parts = [part.replace("\\:", ":") for part in re.split(r"(?<!\\):", item)]
        if len(parts) >= 3:  # Description:path:mime, where the path may hold a drive's colon
            parts = [":".join(parts[1:-1])]
        for candidate in parts:
            path = Path(candidate.strip())
            path = path if path.is_absolute() else folder / path
            if path.suffix.lower() == ".pdf" and path.is_file():
                return str(path.resolve())
    return ""


def paper_from_entry(entry: Entry) -> Paper:
    raw = {f.key.lower(): f.value if f.key.lower() in VERBATIM else _INLINE_MATH.sub(r"$\1$", f.value)
           for f in entry.fields if isinstance(f.value, str)}

    def get(name: str) -> str:
        value = raw.get(name, "")
        return clean(_verbatim(value) if name in VERBATIM else to_text(value))

    kind = entry.entry_type.lower()
    macro = _AAS_MACRO.match(raw.get("journal", ""))
    if macro and macro.group(1) in AAS_JOURNALS:
        raw["journal"] = AAS_JOURNALS[macro.group(1)]
    use_prefix = bool(re.search(r"useprefix\s*(=\s*true)?\s*(,|$)", get("options").lower()))
    language = LANGUAGES.get((get("langid") or get("hyphenation") or get("language")).lower(), "")
    english = not language or language.startswith("en")
    titled = sentence_case if english else (lambda text: _typeset(clean(to_text(text))))
    for name in ("title", "booktitle", "maintitle"):  # "Title: Subtitle. Addon", as biblatex prints them
        subtitle, addon = raw.get(name.replace("title", "subtitle")), raw.get(name + "addon")
        if raw.get(name) and subtitle:
            raw[name] = f"{raw[name]}: {subtitle}"
        if raw.get(name) and addon:
            raw[name] = f"{raw[name]}. {addon}"
    csl: dict = {name: get(bib) for bib, name in _TEXT_TO_CSL.items() if get(bib)}
    if get("part") and "volume" in csl:
        csl["volume"] = f"{csl['volume']}.{get('part')}"
    csl_type = TYPES.get(kind, "article")
    venue_field = next((n for n in _VENUES if get(n) and (n != "booktitle" or csl_type in _IN_A_BOOK)), "")
    venue = get(venue_field)
    if venue and venue_field == "booktitle":
        csl["container-title"] = titled(raw["booktitle"])
    if raw.get("maintitle") and csl_type == "chapter":  # a chapter of one volume of a work in several
        csl["container-title"], csl["volume-title"] = titled(raw["maintitle"]), titled(raw.get("booktitle", ""))
    elif raw.get("maintitle"):  # one volume of a work in several: the work's title, then the volume's
        csl["title"], csl["volume-title"] = titled(raw["maintitle"]), titled(raw.get("title", ""))
    if english and raw.get("title") and "title" not in csl:
        csl["title"] = sentence_case(raw["title"])
    if get("series"):
        csl["collection-title"] = LOCALISED.get(get("series").lower()) or titled(raw["series"])
    if get("number"):
        in_series = "collection-number" if csl_type in ("book", "chapter", "paper-conference") else "number"
        csl["issue" if csl_type == "article-journal" else in_series] = get("number")
    if get("issue"):
        csl["issue"] = ", ".join(p for p in (csl.get("issue"), get("issue")) if p)
    if get("pages"):
        csl["page"] = re.sub(r"\s*[-–]+\s*", "-", get("pages"))
    if raw.get("location") and raw.get("address"):  # ACM: the event's place beside the publisher's
        csl["publisher-place"], csl["event-place"] = get("address"), get("location")
    if get("school") or get("institution") or get("organization") and kind in (
            "manual", "proceedings", "inproceedings", "software", "online", "www", "electronic"):
        csl["publisher"] = "; ".join(p for p in (get("school") or get("institution") or get("organization"),
                                                 csl.get("publisher")) if p)
    if kind in GENRES or get("type"):
        csl["genre"] = LOCALISED.get(get("type").lower()) or get("type") or GENRES[kind]
    howpublished_url = _URL_ONLY.match(raw.get("howpublished", ""))
    for name, field in (("publisher", "publisher"), ("publisher-place", "address"), ("publisher-place", "location")):
        if raw.get(field) and csl.get(name) == get(field):  # biblatex lists: "A and B" -> "A; B"
            csl[name] = "; ".join(to_text(part) for part in _top_level_and(raw[field]))
    if get("howpublished") and not howpublished_url and "publisher" not in csl:  # a sentence, not a list
        csl["publisher"] = get("howpublished")
    if language:
        csl["language"] = language
    if raw.get("bookauthor"):
        csl["container-author"] = [name.to_csl() for name in bibtex_names(raw["bookauthor"], use_prefix)]
    if raw.get("translator"):
        csl["translator"] = [name.to_csl() for name in bibtex_names(raw["translator"], use_prefix)]
    issued = _issued(raw, get)
    if issued and (len(issued["date-parts"]) > 1 or len(issued["date-parts"][0]) > 1):
        csl["issued"] = issued  # more than a year: a month, a day, a range
    if _DATE.match(raw.get("origdate", "")):
        csl["original-date"] = _issued({"date": raw["origdate"]}, lambda name: "")
    if _DATE.match(raw.get("urldate", "")):
        csl["accessed"] = _issued({"date": raw["urldate"]}, lambda name: "")
    arxiv_id = _arxiv_id(get)
    if arxiv_id and csl_type == "document":
        csl_type = "article"  # a preprint
    return Paper(
        title=get("title"),
        abstract=get("abstract"),
        authors=bibtex_names(raw.get("author", ""), use_prefix),
        editors=bibtex_names(raw.get("editor", ""), use_prefix),
        year=issued["date-parts"][0][0] if issued else None,
        venue=venue,
        doi=get("doi"),
        arxiv_id=arxiv_id,
        url=_first_url(get("url")) or (howpublished_url.group(1) if howpublished_url else ""),
        keywords=[clean(k) for k in re.split(r"[,;]", get("keywords") or get("keyword")) if clean(k)],
        key=entry.key,
        type=csl_type,
        csl=csl,
        extra={"primaryclass": get("primaryclass")} if arxiv_id and get("primaryclass") else {},
    )


def read(source: Source, report: Report) -> Iterator[Paper]:
    origin = source.origin
    if len(source.text) > MAX_FILE:
        report(Problem(origin, None, f"larger than {MAX_FILE // 2**20} MB of BibTeX, which is read whole "
                                     "(a million entries took 11 minutes and 1.9 GB): split the file", broken=True))
        return
    with _quiet_splitter():
        library = bibtexparser.parse_string(_blank_comment_lines(source.text))
    entries = list(library.entries)
    for block in library.failed_blocks:
        line = block.start_line + 1 if block.start_line is not None else None  # bibtexparser counts from 0
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, Entry):
            entries.append(block.ignore_error_block)
            report(Problem(origin, line, f"duplicate key {block.key!r}; indexed under a unique key"))
        else:
            start = (block.raw or "").strip().split("\n", 1)[0][:60]
            why = str(block.error) or "syntax error, such as an unclosed brace or quote"
            report(Problem(origin, line, f"entry skipped ({why}): {start}", broken=True))
    entries.sort(key=lambda e: e.start_line or 0)
    _resolve_macros(library, entries)
    _inherit_crossrefs(entries)
    seen: set[str] = set()
    copies: dict[str, itertools.count] = {}  # per key, where its copies' numbering stopped
    for entry in entries:
        try:
            paper = paper_from_entry(entry)
        except Exception as error:  # bibtexparser's helpers raise many kinds on odd input: skip this entry only
            line = entry.start_line + 1 if entry.start_line is not None else None
            report(Problem(origin, line, f"entry {entry.key!r} skipped ({type(error).__name__}: {error})"))
            continue
        if not paper.citable:
            line = entry.start_line + 1 if entry.start_line is not None else None
            report(Problem(origin, line, f"entry {entry.key!r} {NOTHING_TO_CITE}; skipped"))
            continue
        pdf = _attached_pdf(entry, source.folder)
        if pdf:
            paper.extra["pdf"] = pdf
        while paper.key.lower() in seen:  # a duplicate key: keep both entries
            number = next(copies.setdefault(entry.key.lower(), itertools.count(2)))
            paper = dataclasses.replace(paper, key=f"{entry.key}-{number}", id="")
        seen.add(paper.key.lower())
        yield paper
