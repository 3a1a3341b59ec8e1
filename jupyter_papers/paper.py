"""The Paper record and the identifiers every front end relies on."""

from __future__ import annotations

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
_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.I)

# Words skipped when a citation key takes the title's first word.
_KEY_STOPWORDS = frozenset(
    "a an the on of in for to and with from by at as is are do does via towards toward".split()
)


def normalize_arxiv_id(text: str | None) -> str | None:
    """Return the bare arXiv id (no "arXiv:" prefix, no version) or None."""
    if not text:
        return None
    text = text.strip()
    match = _ARXIV_ID.match(text) or _ARXIV_URL.match(text)
    return match.group(1).lower() if match else None


def normalize_doi(text: str | None) -> str | None:
    """Return a DOI in its canonical lower-case form, or None."""
    if not text:
        return None
    match = _DOI.match(text.strip())
    return match.group(1).rstrip(".").lower() if match else None


def identifier_in(text: str) -> str | None:
    """The paper id a pasted arXiv id, arXiv URL or DOI stands for, else None."""
    return normalize_arxiv_id(text) or normalize_doi(text)


def fold(text: str) -> str:
    """Lower-case ASCII approximation: "Schrödinger" -> "schrodinger"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(text: str, max_words: int = 12) -> str:
    """A stable, readable slug of a title, used as id when a paper has no arXiv id or DOI."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    return "-".join(words[:max_words])


def family_name(author: str) -> str:
    """The family name of an author written "First Last" or "Last, First"."""
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    return parts[-1] if parts else ""


@dataclass
class Paper:
    """One paper as the index stores it. Every field but ``id`` may be missing."""

    id: str = ""
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv_id: str = ""
    url: str = ""
    keywords: list[str] = field(default_factory=list)
    source: str = ""
    key: str = ""
    entry_type: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.doi = normalize_doi(self.doi) or ""
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id) or ""
        if isinstance(self.year, str):
            match = re.search(r"\d{4}", self.year)
            self.year = int(match.group()) if match else None
        if not self.id:
            self.id = self.default_id()

    def default_id(self) -> str:
        """arXiv id, else DOI, else the source's own citation key (a .bib file's entries
        stay distinct even when titles repeat), else a slug of the title, else a content hash."""
        if self.arxiv_id or self.doi or self.key or slugify(self.title):
            return self.arxiv_id or self.doi or self.key or slugify(self.title)
        digest = hashlib.sha1(repr(sorted(self.to_dict().items())).encode()).hexdigest()
        return f"untitled-{digest[:10]}"

    @property
    def link(self) -> str:
        """The best public landing page: arXiv, then DOI, then the given URL."""
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url if self.url.startswith(("http://", "https://")) else ""

    def base_key(self) -> str:
        """The ``lastnameYEARfirstword`` citation key, before it is made unique."""
        last = slugify(family_name(self.authors[0])).replace("-", "") if self.authors else ""
        words = [w for w in slugify(self.title, max_words=50).split("-") if w]
        first = next((w for w in words if w not in _KEY_STOPWORDS), words[0] if words else "")
        key = f"{last}{self.year or ''}{first}"
        return key or "paper"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Paper:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def merged_over(self, old: Paper) -> Paper:
        """This paper, with the fields it lacks taken from an older record of the same paper."""
        merged = {}
        for f in dataclasses.fields(self):
            new_value = getattr(self, f.name)
            merged[f.name] = new_value if new_value not in ("", None, [], {}) else getattr(old, f.name)
        merged["extra"] = {**old.extra, **self.extra}
        return Paper(**merged)
