"""Papers from the scholarly web: an identifier looked up, or a query asked of Crossref and
arXiv when the index has too little.

What leaves the machine, and only when the setting allows it ("identifiers", the default,
or "search"; "off" sends nothing): the identifier or the query, to the service that answers
for it (doi.org content negotiation for DOIs, which Crossref, DataCite and the other
registration agencies answer with CSL-JSON; arXiv's API; NCBI's E-utilities for PubMed ids;
Open Library for ISBNs; Crossref's and arXiv's search), with a User-Agent naming this
project and, when given, the contact e-mail Crossref asks polite clients for.

One httpx client per settings, with an on-disk cache (hishel: a DOI is fetched once),
time limits that hold the whole lookup to a few seconds, and retries with backoff on 429
and 5xx that honour Retry-After while the time allows. Every failure is an OnlineError
whose message says what happened, for the front end that asked.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..paper import Paper, normalize_doi
from . import read_papers
from .csljson import paper_from_csl
from .identifiers import Identifier

MODES = ("off", "identifiers", "search")
DEFAULT_URLS = {
    "doi": "https://doi.org",
    "crossref": "https://api.crossref.org",
    "arxiv": "https://export.arxiv.org/api/query",
    "eutils": "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
    "openlibrary": "https://openlibrary.org",
}
TIME_LIMIT = 6.0   # seconds for a whole lookup, retries included
RETRIES = 2
CSL_JSON = "application/vnd.citationstyles.csl+json"
SERVICE_NAMES = {"doi": "doi.org", "crossref": "Crossref", "arxiv": "arXiv", "eutils": "PubMed (NCBI)",
                 "openlibrary": "Open Library"}


class OnlineError(Exception):
    """A lookup or an online search that could not be answered; the message says why."""


@dataclass(frozen=True)
class OnlineSettings:
    mode: str = "identifiers"     # off | identifiers | search
    email: str = ""               # sent to Crossref (its "polite pool") and NCBI
    proxy: str = ""               # else the environment's HTTPS_PROXY, as httpx reads it
    time_limit: float = TIME_LIMIT
    urls: dict = field(default_factory=lambda: dict(DEFAULT_URLS))
    cache: Path | None = None     # folder of the HTTP cache; None: no cache

    @classmethod
    def from_environment(cls, **given) -> OnlineSettings:
        """JUPYTER_PAPERS_ONLINE (off / identifiers / search), JUPYTER_PAPERS_EMAIL,
        JUPYTER_PAPERS_PROXY, and JUPYTER_PAPERS_<SERVICE>_URL for a mirror (or a test
        server); what is given wins. The cache is kept in the index's home."""
        from ..config import home

        values = {"mode": os.environ.get("JUPYTER_PAPERS_ONLINE", "identifiers"),
                  "email": os.environ.get("JUPYTER_PAPERS_EMAIL", ""),
                  "proxy": os.environ.get("JUPYTER_PAPERS_PROXY", ""),
                  "urls": {name: os.environ.get(f"JUPYTER_PAPERS_{name.upper()}_URL", url)
                           for name, url in DEFAULT_URLS.items()},
                  "cache": home() / "http-cache"}
        values.update({k: v for k, v in given.items() if v is not None})
        if values["mode"] not in MODES:
            raise OnlineError(f"online lookups must be one of {', '.join(MODES)}, not {values['mode']!r}")
        return cls(**values)

    @property
    def user_agent(self) -> str:
        from .. import __version__

        contact = f"; mailto:{self.email}" if self.email else ""
        return f"jupyter-papers/{__version__} (https://github.com/jupyter-papers/jupyter-papers{contact})"


class Online:
    """Lookups and searches with one client (its connections and its cache)."""

    def __init__(self, settings: OnlineSettings):
        import httpx

        self.settings = settings
        # the proxy setting, else the environment's (HTTPS_PROXY, NO_PROXY), as httpx reads it
        options = dict(follow_redirects=True, proxy=settings.proxy or None, trust_env=True,
                       headers={"User-Agent": settings.user_agent},
                       timeout=httpx.Timeout(settings.time_limit, connect=min(3.0, settings.time_limit)))
        if settings.cache is None:
            self.client = httpx.Client(**options)
            return
        import hishel
        from hishel.httpx import CacheClient

        settings.cache.mkdir(parents=True, exist_ok=True)
        storage = hishel.SqliteStorage(database_path=settings.cache / "responses.sqlite", default_ttl=30 * 24 * 3600)
        self.client = CacheClient(storage=storage, **options)

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # looking up --------------------------------------------------------------------------
    def lookup(self, identifier: Identifier) -> Paper:
        """The paper an identifier names, from the service that answers for it."""
        if self.settings.mode == "off":
            raise OnlineError(f"online lookups are off: {identifier} is not in the index")
        paper = {"doi": self._doi, "arxiv": self._arxiv, "pmid": self._pubmed, "isbn": self._isbn}[
            identifier.kind](identifier.value)
        paper.extra["looked_up"] = str(identifier)
        return paper

    def _doi(self, doi: str) -> Paper:
        response = self._get("doi", f"/{doi}", accept=CSL_JSON, what=f"doi:{doi}")
        item = _json(response, "doi", f"doi:{doi}")
        if not isinstance(item, dict) or not item.get("title"):
            raise OnlineError(f"doi.org answered for doi:{doi} without a CSL-JSON record")
        # Crossref's answer keeps some of its own names: a JATS abstract, "journal-article"
        item = {**item, "abstract": _without_tags(item.get("abstract", "")),
                "type": _CROSSREF_TYPES.get(item.get("type"), item.get("type"))}
        item.pop("id", None)
        paper = paper_from_csl(item)
        paper.doi = paper.doi or doi
        return paper

    def _arxiv(self, arxiv_id: str) -> Paper:
        response = self._get("arxiv", "", params={"id_list": arxiv_id, "max_results": "1"}, what=f"arXiv:{arxiv_id}")
        papers = [p for p in _atom_papers(response.text) if p.arxiv_id == arxiv_id.lower()]
        if not papers:
            raise OnlineError(f"arXiv has no paper arXiv:{arxiv_id}")
        return papers[0]

    def _pubmed(self, pmid: str) -> Paper:
        params = {"db": "pubmed", "id": pmid, "retmode": "xml", "tool": "jupyter-papers"}
        if self.settings.email:
            params["email"] = self.settings.email
        response = self._get("eutils", "/efetch.fcgi", params=params, what=f"pmid:{pmid}")
        papers = pubmed_papers(response.text)
        if not papers:
            raise OnlineError(f"PubMed has no paper pmid:{pmid}")
        return papers[0]

    def _isbn(self, isbn: str) -> Paper:
        response = self._get("openlibrary", "/api/books", params={"bibkeys": f"ISBN:{isbn}", "format": "json",
                                                                  "jscmd": "data"}, what=f"isbn:{isbn}")
        record = (_json(response, "openlibrary", f"isbn:{isbn}") or {}).get(f"ISBN:{isbn}")
        if not record:
            raise OnlineError(f"Open Library has no book isbn:{isbn}")
        year = re.search(r"\d{4}", record.get("publish_date", ""))
        return Paper(title=": ".join(filter(None, [record.get("title", ""), record.get("subtitle", "")])),
                     authors=[a.get("name", "") for a in record.get("authors", []) if a.get("name")],
                     year=int(year.group()) if year else None, type="book", url=record.get("url", ""),
                     csl={k: v for k, v in {"ISBN": isbn, "publisher": ", ".join(
                         p.get("name", "") for p in record.get("publishers", [])), "publisher-place": ", ".join(
                         p.get("name", "") for p in record.get("publish_places", [])),
                         "number-of-pages": str(record.get("number_of_pages", "") or "")}.items() if v})

    # searching ---------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> list[Paper]:
        """Crossref's and arXiv's best matches, alternating, duplicates (same DOI or arXiv
        id) once. A service that fails leaves the other's results; both failing raises."""
        if self.settings.mode != "search":
            raise OnlineError("online search is off (the setting allows identifiers only)")
        found, failures = [], []
        for ask in (self._crossref_search, self._arxiv_search):
            try:
                found.append(ask(query, limit))
            except OnlineError as error:
                failures.append(str(error))
        if not found:
            raise OnlineError("; ".join(failures))
        merged, seen = [], set()
        for paper in (p for group in _alternating(found) for p in group):
            identity = paper.doi.lower() or paper.arxiv_id or paper.title.lower()
            if identity not in seen:
                seen.add(identity)
                merged.append(paper)
        return merged[:limit]

    def _crossref_search(self, query: str, limit: int) -> list[Paper]:
        params = {"query.bibliographic": query, "rows": str(limit)}
        if self.settings.email:
            params["mailto"] = self.settings.email
        data = _json(self._get("crossref", "/works", params=params, what="the search"), "crossref", "the search")
        return [crossref_paper(item) for item in (data or {}).get("message", {}).get("items", [])
                if item.get("title")]

    def _arxiv_search(self, query: str, limit: int) -> list[Paper]:
        words = " AND ".join(f"all:{word}" for word in re.findall(r"\w+", query)[:12])
        response = self._get("arxiv", "", params={"search_query": words, "max_results": str(limit)}, what="the search")
        return list(_atom_papers(response.text))

    # HTTP --------------------------------------------------------------------------------
    def _get(self, service: str, path: str, params: dict | None = None, accept: str | None = None,
             what: str = ""):
        """A GET within the time limit: 429 and 5xx retried after Retry-After (or 0.5 s,
        then 1 s) while the limit allows; every failure said as the user would need it."""
        import httpx

        name = SERVICE_NAMES[service]
        url = self.settings.urls[service].rstrip("/") + path
        deadline = time.monotonic() + self.settings.time_limit
        headers = {"Accept": accept} if accept else {}
        # cached under what was asked, so the answer at the end of a redirect (doi.org's) is
        # found without asking the first hop again
        asked = json.dumps([url, sorted((params or {}).items()), accept])
        extensions = {"caching": {"key": hashlib.sha256(asked.encode("utf-8")).hexdigest()}}
        for attempt in range(RETRIES + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise OnlineError(f"{name} did not answer for {what} within {self.settings.time_limit:.0f} s")
            try:
                response = self.client.get(url, params=params, headers=headers, timeout=left, extensions=extensions)
            except httpx.TimeoutException:
                raise OnlineError(f"{name} did not answer for {what} within {self.settings.time_limit:.0f} s") from None
            except httpx.ConnectError as error:
                raise OnlineError(f"cannot reach {name} ({_reason(error)}): is this machine online? "
                                  "Papers in the index are still found") from None
            except httpx.HTTPError as error:
                raise OnlineError(f"{name} failed for {what}: {_reason(error)}") from None
            if response.status_code == 429 or response.status_code >= 500:
                wait = _retry_after(response, attempt)
                if attempt < RETRIES and time.monotonic() + wait < deadline:
                    time.sleep(wait)
                    continue
                if response.status_code == 429:
                    raise OnlineError(f"{name} asks us to slow down (429, retry after {wait:.0f} s); try again "
                                      "shortly")
                raise OnlineError(f"{name} is failing ({response.status_code} {response.reason_phrase}); try again "
                                  "later")
            if response.status_code == 404:
                raise OnlineError(f"{name} knows no {what}" if what != "the search" else f"{name}: not found (404)")
            if response.status_code >= 400:
                raise OnlineError(f"{name} refused {what} ({response.status_code} {response.reason_phrase})")
            return response
        raise AssertionError("unreachable")  # the loop returns or raises


def _retry_after(response, attempt: int) -> float:
    """Retry-After in seconds (a number or an HTTP date), else a doubling backoff."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return 0.5 * 2 ** attempt


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return "the name does not resolve (DNS)" if "Name or service not known" in text or "getaddrinfo" in text else text


def _json(response, service: str, what: str):
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "?").split(";")[0]
        raise OnlineError(f"{SERVICE_NAMES[service]} answered for {what} with something that is not JSON ({kind}, "
                          f"{len(response.content)} bytes)") from None


def _atom_papers(text: str) -> list[Paper]:
    reading = read_papers(text, format="arxiv-atom")
    papers = [paper for paper in reading if paper.title.lower() != "error"]
    if reading.problems and not papers:
        raise OnlineError(f"arXiv answered with something that is not an Atom feed ({reading.problems[0].message})")
    return papers


def _alternating(groups: list[list[Paper]]) -> list[list[Paper]]:
    longest = max(map(len, groups), default=0)
    return [[group[i] for group in groups if i < len(group)] for i in range(longest)]


_TAGS = re.compile(r"<[^>]+>")


def _without_tags(text) -> str:
    """An abstract as Crossref gives it, in JATS: the text without its tags."""
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split()) if isinstance(text, str) else ""


_CROSSREF_TYPES = {"journal-article": "article-journal", "proceedings-article": "paper-conference",
                   "book-chapter": "chapter", "posted-content": "article", "dissertation": "thesis",
                   "report": "report", "book": "book", "monograph": "book", "dataset": "dataset"}


def crossref_paper(item: dict) -> Paper:
    """A work of Crossref's REST API (its own JSON, close to CSL) as a paper."""
    first = lambda value: value[0] if isinstance(value, list) and value else (value or "")  # noqa: E731
    csl = {"title": first(item.get("title")), "container-title": first(item.get("container-title")),
           "author": item.get("author", []), "editor": item.get("editor", []), "DOI": item.get("DOI", ""),
           "URL": item.get("URL", ""), "type": _CROSSREF_TYPES.get(item.get("type", ""), "article"),
           "abstract": _without_tags(item.get("abstract", "")), "publisher": item.get("publisher", ""),
           "volume": item.get("volume", ""), "issue": item.get("issue", ""), "page": item.get("page", "")}
    issued = item.get("issued") or item.get("published") or {}
    if issued.get("date-parts") and issued["date-parts"][0] and issued["date-parts"][0][0]:
        csl["issued"] = {"date-parts": issued["date-parts"]}
    return paper_from_csl({k: v for k, v in csl.items() if v})


def pubmed_papers(text: str) -> list[Paper]:
    """The articles of an E-utilities efetch answer (PubmedArticleSet XML)."""
    try:
        root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", text, count=1).encode("utf-8"))
    except ET.ParseError as error:
        raise OnlineError(f"PubMed answered with XML that does not parse ({error})") from None
    papers = []
    for article in root.iter("PubmedArticle"):
        citation = article.find("MedlineCitation")
        body = citation.find("Article") if citation is not None else None
        if body is None:
            continue
        text_of = lambda node: " ".join("".join(node.itertext()).split()) if node is not None else ""  # noqa: E731
        abstract = " ".join(
            (f"{part.get('Label').title()}: " if part.get("Label") else "") + text_of(part)
            for part in body.findall("Abstract/AbstractText"))
        authors = []
        for author in body.findall("AuthorList/Author"):
            if author.find("CollectiveName") is not None:
                authors.append({"literal": text_of(author.find("CollectiveName"))})
            elif author.find("LastName") is not None:
                authors.append({"family": text_of(author.find("LastName")), "given": text_of(author.find("ForeName"))})
        doi = next((text_of(node) for node in body.findall("ELocationID") if node.get("EIdType") == "doi"), "") or \
            next((text_of(node) for node in article.findall("PubmedData/ArticleIdList/ArticleId")
                  if node.get("IdType") == "doi"), "")
        year = text_of(body.find("Journal/JournalIssue/PubDate/Year")) or text_of(
            body.find("Journal/JournalIssue/PubDate/MedlineDate"))[:4]
        pmid = text_of(citation.find("PMID"))
        csl = {"title": text_of(body.find("ArticleTitle")).rstrip("."), "abstract": abstract, "author": authors,
               "container-title": text_of(body.find("Journal/Title")), "type": "article-journal",
               "volume": text_of(body.find("Journal/JournalIssue/Volume")),
               "issue": text_of(body.find("Journal/JournalIssue/Issue")),
               "page": text_of(body.find("Pagination/MedlinePgn")), "DOI": normalize_doi(doi) or "", "PMID": pmid,
               "URL": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else ""}
        if year.isdigit():
            csl["issued"] = {"date-parts": [[int(year)]]}
        paper = paper_from_csl({k: v for k, v in csl.items() if v})
        paper.extra["pmid"] = pmid
        papers.append(paper)
    return papers


def to_jsonl(paper: Paper) -> str:
    """The record as a line of the "looked up" source (our JSON Lines)."""
    return json.dumps(paper.to_dict(), ensure_ascii=False)

