"""What a pasted identifier names: a DOI (bare, ``doi:``, a resolver or a publisher's URL),
an arXiv id (new or old, with a version, ``arXiv:``, an arxiv.org URL), a PubMed id
(``pmid:``, a PubMed URL) or an ISBN (10 or 13 digits, hyphens allowed, checksum
checked). Only the whole text is read as one: a sentence that mentions a DOI is a query.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

from ..paper import normalize_arxiv_id, normalize_doi

KINDS = ("doi", "arxiv", "pmid", "isbn")
_DOI_IN_URL = re.compile(r"^https?://[^/\s]+/(?:.*?/)?(10\.\d{4,9}/[^\s?#]+)", re.I)
_DOI_IN_QUERY = re.compile(r"^https?://[^/\s]+/[^?\s]*\?(?:.*&)?(?:id|doi)=(10\.\d{4,9}/[^&\s#]+)", re.I)
_PUBLISHER_SUFFIX = re.compile(r"(?:/(?:full|abstract|pdf|epdf|html|meta|references|figures)|\.pdf|/)$", re.I)
_PMID = re.compile(r"^(?:pmid|pubmed)\s*:?\s*(\d{1,9})$|^https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|"
                   r"ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})/?$", re.I)
_ISBN = re.compile(r"^(?:isbn(?:-1[03])?\s*:?\s*)?((?:97[89][-\s]?)?\d[\d\s-]{7,15}[\dX])$", re.I)


class Identifier(NamedTuple):
    kind: str     # doi, arxiv, pmid, isbn
    value: str    # as the service that resolves it wants it: DOI as written, bare arXiv id, digits

    def __str__(self) -> str:
        return {"doi": "doi:", "arxiv": "arXiv:", "pmid": "pmid:", "isbn": "isbn:"}[self.kind] + self.value


def recognise(text: str) -> Identifier | None:
    """The identifier the text is, or None."""
    text = (text or "").strip().strip("<>").strip()
    if not text or " " in text.strip() and not text.lower().startswith(("isbn", "pmid", "pubmed", "doi:", "arxiv:")):
        return None
    arxiv = normalize_arxiv_id(text)
    if arxiv:
        return Identifier("arxiv", arxiv)
    doi = normalize_doi(text) or _doi_in_url(text)
    if doi:
        return Identifier("doi", doi)
    pmid = _PMID.match(text)
    if pmid:
        return Identifier("pmid", pmid.group(1) or pmid.group(2))
    isbn = _ISBN.match(text)
    if isbn and (text.lower().startswith("isbn") or "-" in text or len(_digits(isbn.group(1))) == 13):
        digits = _digits(isbn.group(1))
        if _valid_isbn(digits):
            return Identifier("isbn", digits)
    return None


def lookup_form(text: str) -> str:
    """The form the index keeps a paper's identifiers in (its ``ids``): a DOI or arXiv id
    bare and lower case, a PubMed id or ISBN as ``pmid:…``/``isbn:…``, anything else as typed,
    lower case."""
    found = recognise(text)
    return (found.value if found and found.kind in ("doi", "arxiv") else str(found or text)).lower()


def _doi_in_url(text: str) -> str | None:
    """The DOI in a publisher's URL (``https://dl.acm.org/doi/pdf/10.1145/...``,
    ``https://journals.plos.org/plosone/article?id=10.1371/...``)."""
    found = _DOI_IN_URL.match(text) or _DOI_IN_QUERY.match(text)
    if not found:
        return None
    doi = unquote(found.group(1))
    while _PUBLISHER_SUFFIX.search(doi):
        doi = _PUBLISHER_SUFFIX.sub("", doi)
    return doi.rstrip(".") or None


def _digits(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def _valid_isbn(digits: str) -> bool:
    if len(digits) == 10 and digits[:9].isdigit():
        total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
        check = (11 - total % 11) % 11
        return digits[9] == ("X" if check == 10 else str(check))
    if len(digits) == 13 and digits.isdigit():
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
        return int(digits[12]) == (10 - total % 10) % 10
    return False
