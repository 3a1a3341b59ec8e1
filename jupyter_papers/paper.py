"""The Paper record and the identifiers every front end relies on.

A Paper is a CSL-JSON item (the model Zotero, Better BibTeX, pandoc and every CSL engine
share) plus what search needs: names keep their parts, the item type is CSL's, and every
CSL variable a reader finds is kept verbatim, so citations are made from it without loss.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

ARXIV_NEW = r"\d{4}\.\d{4,5}"
ARXIV_OLD = r"[a-z][a-z.-]+/\d{7}"
_ARXIV_ID = re.compile(rf"^(?:arxiv:\s*)?({ARXIV_NEW}|{ARXIV_OLD})(?:v\d+)?$", re.I)
_ARXIV_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/({ARXIV_NEW}|{ARXIV_OLD})(?:v\d+)?(?:\.pdf)?/?$",
    re.I,
)
# A DOI, bare, as "doi:...", or as a resolver URL (doi.org, dx.doi.org, a publisher's doi.* host).
_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.(?:org|acm\.org|wiley\.com|ieeecomputersociety\.org)/)?"
                  r"(10\.\d{4,9}/\S+|10/[a-z0-9]+)$", re.I)  # and a short DOI (shortdoi.org), as Zotero keeps them
# What a BibTeX key may hold (biber's rules, less what breaks Markdown or LaTeX citations).
_KEY_CHARS = re.compile(r"[^\w:.+/-]")

# Words skipped when a citation key takes the title's first word.
_KEY_STOPWORDS = frozenset(
    "a an the on of in for to and with from by at as is are do does via towards toward".split()
)

# CSL item types we know; anything else read from a source becomes "article" (a preprint or
# an unknown kind of text, which every style can cite).
CSL_TYPES = frozenset(
    "article article-journal article-magazine article-newspaper bill book broadcast chapter classic "
    "collection dataset document entry entry-dictionary entry-encyclopedia event figure graphic hearing "
    "interview legal_case legislation manuscript map motion_picture musical_score pamphlet "
    "paper-conference patent performance periodical personal_communication post post-weblog "
    "regulation report review review-book software song speech standard thesis treaty webpage".split()
)
# The BibTeX entry types of records written before items had a CSL type (schema 4 and older).
_OLD_ENTRY_TYPES = {
    "article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
    "book": "book", "incollection": "chapter", "inbook": "chapter", "phdthesis": "thesis",
    "mastersthesis": "thesis", "techreport": "report", "online": "webpage", "unpublished": "manuscript",
    "misc": "article",
}
_CONFERENCE = re.compile(
    r"proceedings|conference|workshop|symposium|\b(?:neurips|nips|icml|iclr|cvpr|iccv|eccv|acl|emnlp|naacl|"
    r"aaai|ijcai|kdd|sigir|www|interspeech|icassp|coling|eacl|uai|aistats|colt|corl|wacv|bmvc|miccai|rlc|adma)\b",
    re.I,
)
# BibTeX field names old records kept in ``extra``, and the CSL variables they are.
_OLD_EXTRA = {"volume": "volume", "pages": "page", "publisher": "publisher", "address": "publisher-place",
              "edition": "edition", "isbn": "ISBN", "issn": "ISSN", "note": "note", "series": "collection-title",
              "school": "publisher", "institution": "publisher"}


def guess_type(venue: str) -> str:
    """The CSL type of a paper whose source gives only a venue: a conference paper when the
    venue reads like one ("CVPR 2023", "Proceedings of ..."), else a journal article, and
    without a venue a preprint ("article")."""
    if not venue:
        return "article"
    return "paper-conference" if _CONFERENCE.search(venue) else "article-journal"


def normalize_arxiv_id(text: str | None) -> str | None:
    """Return the bare arXiv id (no "arXiv:" prefix, no version) or None."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    match = _ARXIV_ID.match(text) or _ARXIV_URL.match(text)
    return match.group(1).lower() if match else None


def normalize_doi(text: str | None) -> str | None:
    """The bare DOI (no "doi:", no resolver URL) as written, or None. DOIs match without
    regard to case; they are kept as written because citations print them."""
    if not text or not isinstance(text, str):
        return None
    match = _DOI.match(text.strip())
    return match.group(1).rstrip(".") if match else None


def identifier_in(text: str) -> str | None:
    """The paper id a pasted arXiv id, arXiv URL or DOI stands for, else None."""
    doi = normalize_doi(text)
    return normalize_arxiv_id(text) or (doi.lower() if doi else None)


def fold(text: str) -> str:
    """Lower-case ASCII approximation: "Schrödinger" -> "schrodinger"."""
    if text.isascii():  # most titles and names: nothing to decompose (an import folds one per paper)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(text: str, max_words: int = 12) -> str:
    """A stable, readable slug of a title."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    return "-".join(words[:max_words])


def valid_key(key: str) -> str:
    """The key with every character BibTeX, pandoc, MyST or LaTeX would trip on removed: a
    key is pasted into citations and .bib files, so it must not carry markup. Letters of
    any script stay, and no length is cut (pandoc and biber take ``Болтянский1968`` as it
    is); the keys we make ourselves are ASCII (base_key)."""
    return _KEY_CHARS.sub("", key or "")


def key_suffixes():
    """"", "a", "b", ... "z", "aa", "ab", ...: how a taken citation key is made unique,
    however many papers share it."""
    yield ""
    width = 1
    while True:
        for number in range(26 ** width):
            letters = ""
            for _ in range(width):
                number, digit = divmod(number, 26)
                letters = chr(ord("a") + digit) + letters
            yield letters
        width += 1


class Name(str):
    """A person or an organisation, as CSL-JSON names it: family, given, particles and
    suffix, or a literal. It reads as the name written out ("Martin Luther King Jr."), so
    search and display use it as text, while citations use its parts."""

    PARTS = ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal")

    def __new__(cls, text: str = "", **parts: str):
        parts = {k: " ".join(v.split()) for k, v in parts.items() if isinstance(v, str) and v.strip()}
        if not parts and text:
            parts = {"literal": " ".join(text.split())}
        # "and others" in BibTeX: CSL engines print it as "et al.", and so do we
        shown = "et al." if parts.get("literal") == "others" else parts.get("literal") or " ".join(
            parts[p] for p in ("given", "dropping-particle", "non-dropping-particle", "family", "suffix") if p in parts)
        name = super().__new__(cls, shown)
        name.parts = parts
        return name

    def __getnewargs_ex__(self):
        return (str(self),), dict(self.parts)

    @classmethod
    def from_csl(cls, value) -> Name:
        """A CSL-JSON name object, or a name written out (as older records hold them)."""
        if isinstance(value, Name):
            return value
        if isinstance(value, dict):
            parts = {k.replace("_", "-"): v for k, v in value.items()}
            return cls(**{k: parts[k] for k in cls.PARTS if isinstance(parts.get(k), str)})
        return cls.parse(value) if isinstance(value, str) else cls()

    @classmethod
    def parse(cls, raw: str, decode=lambda text: text) -> Name:
        """A name by BibTeX's rules ("First von Last", "von Last, Jr, First"), as bibtexparser
        splits it; ``decode`` reads each part's LaTeX once it is split. A name in braces is an
        organisation; biblatex's ``family=..., given=...`` form is read as such. As pandoc
        does, a capitalised word before the family name ("Van de Graaff") belongs to it, and
        lower-case particles ("von Eel") are particles."""
        from bibtexparser.middlewares.names import parse_single_name_into_parts

        raw = " ".join(raw.split())
        words = lambda parts: " ".join(decode(" ".join(parts)).split())  # noqa: E731
        if _braced_whole(raw) or raw.lower() == "others":
            return cls(literal=words([raw[1:-1]]) if raw.startswith("{") else "others")
        if re.match(r"^\s*[a-z]+\s*=", raw):  # biblatex's extended form, or a name-list option alone
            fields = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
            fields = {k.strip().lower(): words([v.strip().strip("{}")]) for k, v in fields.items()}
            return cls(family=fields.get("family", ""), given=fields.get("given", ""),
                       suffix=fields.get("suffix", ""), **{"dropping-particle": fields.get("prefix", "")})
        try:
            parts = parse_single_name_into_parts(raw, strict=False)
        except Exception:  # bibtexparser raises several types on odd names; the name is still useful
            return cls(literal=words([raw]))
        von, last = list(parts.von), list(parts.last)
        if von and von[0][:1].isupper():
            last, von = von + last, []
        if not last and not parts.first:
            return cls(literal=words([raw]))
        return cls(family=words(last), given=words(parts.first), suffix=words(parts.jr),
                   **{"dropping-particle": words(von)})

    @property
    def family(self) -> str:
        return self.parts.get("family") or self.parts.get("literal", "")

    def to_csl(self) -> dict:
        return dict(self.parts)


def _braced_whole(text: str) -> bool:
    """``{World Health Organization}``: one brace group around the whole name."""
    if not (text.startswith("{") and text.endswith("}")) or text.startswith("{\\"):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and position < len(text) - 1:
            return False
    return True


def names(values) -> list[Name]:
    """Names from CSL objects or strings; empty ones dropped."""
    if not isinstance(values, (list, tuple)):
        return []
    return [name for name in map(Name.from_csl, values) if name]


@dataclass
class Paper:
    """One paper as the index stores it. Every field but ``id`` may be missing.

    ``type`` is the CSL item type; ``csl`` holds the other CSL-JSON variables as the source
    gave them (volume, issue, page, publisher, genre, collection-title, ...); ``extra``
    what CSL has no variable for (an arXiv category, a code URL)."""

    id: str = ""
    title: str = ""
    abstract: str = ""
    authors: list[Name] = field(default_factory=list)
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv_id: str = ""
    url: str = ""
    keywords: list[str] = field(default_factory=list)
    source: str = ""
    key: str = ""
    type: str = ""
    editors: list[Name] = field(default_factory=list)
    csl: dict = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)  # other keys it has been cited by: they keep resolving

    def __post_init__(self) -> None:
        self.doi = normalize_doi(self.doi) or ""
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id) or ""
        self.authors, self.editors = names(self.authors), names(self.editors)
        if isinstance(self.year, str):
            match = re.search(r"\d{4}", self.year)
            self.year = int(match.group()) if match else None
        if not isinstance(self.year, int) or isinstance(self.year, bool) or not 0 < self.year < 10000:
            self.year = None
        if self.type not in CSL_TYPES:
            self.type = guess_type(self.venue)
        self.key = valid_key(self.key)
        if self.aliases:
            self.aliases = list(dict.fromkeys(a for a in map(valid_key, self.aliases) if a and a != self.key))
        if not self.id:
            self.id = self.default_id()

    def default_id(self) -> str:
        """arXiv id, else DOI, else the source's own citation key, else a readable slug of
        the title with a hash of the whole record: two papers that share a title are two
        papers, and the same record read again is the same paper."""
        if self.arxiv_id or self.doi or self.key:
            return self.arxiv_id or self.doi.lower() or self.key
        record = {k: v for k, v in self.to_dict().items() if k not in ("id", "source")}
        digest = hashlib.sha1(repr(sorted(record.items())).encode()).hexdigest()[:10]
        return f"{slugify(self.title, max_words=6) or 'untitled'}-{digest}"

    @property
    def link(self) -> str:
        """The best public landing page: arXiv, then DOI, then the given URL."""
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url if self.url.startswith(("http://", "https://")) else ""

    @property
    def citable(self) -> bool:
        """Whether a reference can be made of it: pandoc and BibTeX cite an entry without a
        title (a @misc with only an author, or only a note), but not one with nothing."""
        return bool(self.title or self.authors or self.editors or self.venue or self.doi or self.arxiv_id
                    or self.url or any(self.csl.get(k) for k in ("note", "publisher", "container-title")))

    @property
    def display_title(self) -> str:
        """The title, or "untitled" where a paper without one is shown in a list."""
        return self.title or "untitled"

    @property
    def guessed(self) -> str:
        """What of this record was guessed from its PDF ("title from the first page"), or ""."""
        return self.extra.get("guessed", "")

    @property
    def identifiers(self) -> list[str]:
        """The names this paper has in every record of it, whatever id a source gave it:
        its DOI (lower case) and arXiv id."""
        return [i for i in (self.doi.lower(), self.arxiv_id) if i]

    def base_key(self) -> str:
        """The ``lastnameYEARfirstword`` citation key, before it is made unique."""
        people = self.authors or self.editors
        last = slugify(people[0].family).replace("-", "") if people else ""
        words = [w for w in slugify(self.title, max_words=50).split("-") if w]
        first = next((w for w in words if w not in _KEY_STOPWORDS), words[0] if words else "")
        return valid_key(f"{last}{self.year or ''}{first}") or "paper"

    def to_dict(self) -> dict:
        """The record as plain JSON values, sharing nothing mutable with the paper. (Built
        field by field: dataclasses.asdict deep-copied each name only to have it replaced,
        a tenth of an import's time.)"""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data.update(authors=[name.to_csl() for name in self.authors], editors=[name.to_csl() for name in self.editors],
                    keywords=list(self.keywords), csl=copy.deepcopy(self.csl), extra=dict(self.extra),
                    aliases=list(self.aliases))
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Paper:
        """A record written by ``to_dict``, by this or an older version (whose authors were
        strings, whose ``entry_type`` was BibTeX's and whose ``extra`` held BibTeX fields)."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "entry_type" in data and "type" not in data:
            old_type = data["entry_type"] if data["entry_type"] not in ("article", "misc", "") else ""
            values["type"] = _OLD_ENTRY_TYPES.get(old_type, guess_type(data.get("venue") or ""))
            extra = dict(data.get("extra") or {})
            csl = {csl_name: extra.pop(bib) for bib, csl_name in _OLD_EXTRA.items() if extra.get(bib)}
            if extra.get("number"):
                csl["issue" if values["type"] == "article-journal" else "number"] = extra.pop("number")
            values.update(csl=csl, extra=extra)
        return cls(**values)

    def merged_over(self, old: Paper) -> Paper:
        """This paper, with the fields it lacks taken from an older record of the same paper."""
        merged = {}
        for f in dataclasses.fields(self):
            new_value = getattr(self, f.name)
            merged[f.name] = new_value if new_value not in ("", None, [], {}) else getattr(old, f.name)
        merged["csl"] = {**old.csl, **self.csl}
        merged["extra"] = {**old.extra, **self.extra}
        merged["aliases"] = old.aliases + self.aliases
        return Paper(**merged)

    def merged_as_duplicate(self, old: Paper) -> tuple[Paper, list[str]]:
        """This record of a paper the index holds under another key or from another source
        (same DOI or arXiv id), folded into the old one: the paper keeps its id and key (a
        key a notebook cites must keep resolving), this record's key becomes an alias, and
        each field keeps the richer of the two values (the longer text, the longer list of
        names: never fewer authors). Also says what changed. What a PDF alone suggested
        (``extra["guessed"]``, sources/pdf.py) yields to a real record either way round."""
        if self.guessed and not old.guessed:
            if old.extra.get("pdf") or not self.extra.get("pdf"):
                return old, []
            return dataclasses.replace(old, extra={**old.extra, "pdf": self.extra["pdf"]}), ["its PDF attached"]
        if old.guessed and not self.guessed:
            paper = self.merged_over(old)
            paper.extra.pop("guessed", None)
            paper.id, paper.key = old.id, self.key or old.key
            paper.aliases = list(dict.fromkeys([*old.aliases, old.key, *self.aliases]))
            return paper, [f"its metadata, guessed from its PDF, replaced by this record's (key {paper.key})"]
        merged, changes = {}, []
        for f in dataclasses.fields(self):
            kept, offered = getattr(old, f.name), getattr(self, f.name)
            if f.name in ("id", "key", "source", "year", "type", "csl", "extra", "aliases") or offered in (
                    "", None, [], {}):
                merged[f.name] = kept
            elif kept in ("", None, [], {}) or (isinstance(kept, (str, list)) and len(offered) > len(kept)):
                merged[f.name] = offered
                changes.append(f"{f.name} taken from it")
            else:
                merged[f.name] = kept
        merged["year"] = old.year or self.year
        added = {k: v for k, v in self.csl.items() if k not in old.csl}
        merged["csl"] = {**old.csl, **added}
        merged["extra"] = {**self.extra, **old.extra}
        if added:
            changes.append(f"{', '.join(sorted(added))} added")
        merged["aliases"] = old.aliases + ([self.key] if self.key and self.key != old.key else []) + self.aliases
        if self.key and self.key != old.key:
            changes.insert(0, f"its key {self.key} is now an alias of {old.key}")
        return Paper(**merged), changes


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Paper))
