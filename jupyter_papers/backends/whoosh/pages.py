"""The full text of PDFs: a Whoosh index of pages beside the index of papers.

A page is a document of its own (paper id, page number, text), in a second index in the
same folder (index name "pages"): a hit can then name its page, and title/abstract
searches keep their own statistics, postings and speed (an index with no PDFs costs them
nothing). Each PDF also has a "file" record (its content hash, pages read, or why none):
the hash tells a sync that the text is already indexed, also for the same file attached
to another paper, and a PDF that could not be read is not read again until it changes.

Pages are scored as wordsearch.py scores papers: each word's posting list read once per
snapshot (postings.PostingCache) and BM25 added into one array per segment.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.fields import ID, NUMERIC, STORED, Schema

from .analysis import PaperBM25F, PaperText
from .postings import FieldLengths, cached_postings
from .snapshot import Snapshot
from .storage import MappedStorage
from .writers import segment_writer

PAGES_NAME = "pages"
COMPLETIONS = 8      # words the last, unfinished word of a query stands for
CANDIDATE_PAGES = 2000  # pages grouped into papers, the best by score, when more match
_BM25 = PaperBM25F()
K1, B = _BM25.K1, _BM25.B


def make_page_schema() -> Schema:
    return Schema(
        paper=ID(stored=True),
        sha=ID(stored=True),
        kind=ID(),                                   # "file": the PDF's record; "page": a page
        page=NUMERIC(int, bits=32, stored=True, signed=False, default=0),  # 1..n; 0: text without pages
        text=PaperText(stop_words=True, stemmed=True),
        data=STORED,                                 # a page: its text, zlib; a file: JSON
    )


@dataclass
class FileText:
    """One PDF's text as the page index holds it, for one paper."""

    paper: str
    sha: str
    pdf: str
    pages: list[str] = field(default_factory=list)
    paged: bool = True
    problem: str | None = None
    total_pages: int = 0
    stamp: list[int] = field(default_factory=list)  # the file's size and modification time when read


@dataclass
class PageHit:
    page: int          # 0: a text without page numbers (Zotero's cache)
    score: float
    docnum: int


@dataclass
class PaperPages:
    paper: str
    score: float
    pages: list[PageHit]
    coverage: float = 1.0  # the share of the query's words its best page holds


class PageIndex:
    """The pages of one index folder; opened (and created) the first time it is needed."""

    def __init__(self, path: Path):
        self.path = path
        self._ix = None
        self._snapshot = Snapshot(lambda: self._index().searcher())
        self._lengths = FieldLengths()
        self._lock = threading.RLock()

    def _index(self):
        if self._ix is None:
            storage = MappedStorage(str(self.path))
            if storage.index_exists(PAGES_NAME):
                self._ix = storage.open_index(PAGES_NAME, schema=make_page_schema())
            else:
                self._ix = storage.create_index(make_page_schema(), indexname=PAGES_NAME)
        return self._ix

    def copy_to(self, folder: Path) -> None:
        """Put a copy of the page index into another index folder (a rebuild's): its PDFs
        need not be read again."""
        import shutil

        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for file in self.path.iterdir():
                if file.name.startswith((f"_{PAGES_NAME}_", f"{PAGES_NAME}_")) and not file.name.endswith("LOCK"):
                    shutil.copy2(file, folder / file.name)

    def exists(self) -> bool:
        return self._ix is not None or MappedStorage(str(self.path)).index_exists(PAGES_NAME)

    def searcher(self):
        with self._lock:
            return self._snapshot.current()

    def close(self) -> None:
        with self._lock:
            self._snapshot.close()

    def current(self):
        """The searcher of the pages as they are now (one look at whether another process
        committed), or None while no PDF has pages: a search asks this once."""
        if not self.exists():
            return None
        searcher = self.searcher()
        return searcher if searcher.doc_count() else None

    # what is indexed -------------------------------------------------------------------
    def file_records(self) -> dict[str, dict]:
        """Each paper's PDF record: {"sha", "pdf", "stamp", "pages", "problem", ...}."""
        searcher = self.searcher()
        return {stored["paper"]: json.loads(stored["data"])
                for stored in map(searcher.stored_fields, searcher.docs_for_query(wq.Term("kind", "file")))}

    def text_of(self, sha: str) -> FileText | None:
        """The text indexed for a PDF with this content hash, under any paper."""
        if not self.exists():
            return None
        searcher = self.searcher()
        pages, record = {}, None
        for docnum in searcher.docs_for_query(wq.Term("sha", sha)):
            stored = searcher.stored_fields(docnum)
            if isinstance(stored["data"], str):
                record = json.loads(stored["data"])
            else:
                pages[stored["page"]] = _unpacked(stored)
        if record is None:
            return None
        numbers = sorted(pages)
        texts = [pages[n] for n in numbers] if numbers and numbers[0] == 0 else [
            pages.get(n, "") for n in range(1, (numbers[-1] if numbers else 0) + 1)]
        return FileText("", sha, record["pdf"], texts, record.get("paged", True), record.get("problem"),
                        record.get("total_pages", 0))

    @staticmethod
    def page_text(searcher, docnum: int) -> str:
        return _unpacked(searcher.stored_fields(docnum))

    # writing ---------------------------------------------------------------------------
    def write(self, texts: Iterable[FileText], forget: Iterable[str] = (), timeout: float = 120.0) -> None:
        """Replace the pages of these papers (and drop those of ``forget``), in one commit."""
        writer = segment_writer(self._index(), timeout=timeout, delay=0.25, compound=False)
        try:
            for paper_id in forget:
                writer.delete_by_term("paper", paper_id)
            for text in texts:
                writer.delete_by_term("paper", text.paper)
                record = {"sha": text.sha, "pdf": text.pdf, "stamp": text.stamp, "pages": len(text.pages),
                          "paged": text.paged, "problem": text.problem, "total_pages": text.total_pages}
                writer.add_document(paper=text.paper, sha=text.sha, kind="file", data=json.dumps(record))
                for number, page in enumerate(text.pages, start=1 if text.paged else 0):
                    if page.strip():
                        writer.add_document(paper=text.paper, sha=text.sha, kind="page", page=number, text=page,
                                            data=zlib.compress(page.encode("utf-8")))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise

    # searching -------------------------------------------------------------------------
    @staticmethod
    def terms(searcher, text: str, prefix: bool) -> list[list[str]]:
        """The query's words as page terms, each a list: the last word (when unfinished)
        stands for its completions too."""
        words = [[token.text] for token in searcher.schema["text"].analyzer(text, mode="query")]
        if prefix and words:
            reader = searcher.reader()
            last = words[-1][0]
            completions = [w.decode("utf-8") if isinstance(w, bytes) else w
                           for _, w in zip(range(COMPLETIONS), reader.expand_prefix("text", last))]
            words[-1] = list(dict.fromkeys([last, *completions]))
        return words

    def search(self, searcher, words: list[list[str]], papers: int, sentence: bool) -> tuple[list[PaperPages], int]:
        """The best ``papers`` papers by their best page, each with its best pages (up to
        three), and how many papers have a matching page. A page must hold all the words
        (a sentence: a third of them); with none, one word fewer, and so on."""
        if not words:
            return [], 0
        with self._lock:
            scores, counts = self._scored(searcher, words)
            starts = self._snapshot.memo.get("files")
            if starts is None:  # a PDF's record comes before its pages: where each paper's pages start
                starts = self._snapshot.memo["files"] = np.fromiter(
                    sorted(searcher.docs_for_query(wq.Term("kind", "file"))), dtype=np.int64)
        total_words = len(words)
        need = max(1, math.ceil(total_words / 3)) if sentence else total_words
        while not (counts >= need).any() and need > (need if sentence else 1):
            need -= 1
        found = np.flatnonzero(counts >= need)
        if not len(found):
            return [], 0
        coverage = counts[found] / total_words
        # a page with more of the words first; among a sentence's many words, weighed with its score
        key = scores[found] * coverage if sentence else scores[found] + 1000.0 * counts[found]
        owner = np.searchsorted(starts, found, side="right") - 1
        total = int(np.count_nonzero(np.bincount(owner)))
        if len(found) > CANDIDATE_PAGES:  # the best papers' pages are among the best pages
            best_pages = np.argpartition(-key, CANDIDATE_PAGES - 1)[:CANDIDATE_PAGES]
            found, key, coverage, owner = found[best_pages], key[best_pages], coverage[best_pages], owner[best_pages]
        by_owner = np.lexsort((-key, owner))          # each paper's pages together, best first
        owners = owner[by_owner]
        first = np.r_[True, owners[1:] != owners[:-1]]
        heads = by_owner[first]                       # each paper's best page
        best = heads[np.argsort(-key[heads], kind="stable")[:papers]]
        ranked = []
        for head in best:
            at = int(np.searchsorted(owners, owner[head], side="left"))
            pages = by_owner[at:at + 3]
            # the best page, and the next two as far as they hold as many of the words (a sentence's:
            # score at least half the best's)
            pages = pages[(owners[at:at + 3] == owner[head]) & (coverage[pages] == coverage[head])
                          & (key[pages] >= (0.5 * key[head] if sentence else 0))]
            hits = [PageHit(int(searcher.stored_fields(int(found[i])).get("page") or 0), float(key[i]),
                            int(found[i])) for i in pages]
            paper = searcher.stored_fields(int(found[head]))["paper"]
            ranked.append(PaperPages(paper, float(key[head]), hits, float(coverage[head])))
        return ranked, total

    def _scored(self, searcher, words: list[list[str]]):
        cache = cached_postings(self._snapshot.memo)
        size = searcher.doc_count_all()
        scores = np.zeros(size, dtype=np.float32)
        counts = np.zeros(size, dtype=np.int16)
        average = searcher.avg_field_length("text") or 1.0
        weights = self._snapshot.memo.setdefault("weights", {})  # a term's idf (K1 + 1), per snapshot
        for term in {term for alternatives in words for term in alternatives} - weights.keys():
            weights[term] = _BM25.idf(searcher, "text", term) * (K1 + 1)
        for subsearcher, offset in searcher.leaf_searchers():
            reader = subsearcher.reader()
            count = reader.doc_count_all()
            norms = K1 * ((1 - B) + B * self._lengths.of(reader, "text") / average)
            for alternatives in words:
                has = np.zeros(count, dtype=bool)
                for term in alternatives:
                    postings = cache.get(reader, "text", term)
                    if not len(postings.ids):
                        continue
                    scores[offset + postings.ids] += weights[term] * postings.tf / (postings.tf + norms[postings.ids])
                    has[postings.ids] = True
                counts[offset:offset + count] += has
            if reader.has_deletions():
                alive = np.zeros(count, dtype=bool)
                alive[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
                counts[offset:offset + count][~alive] = 0
        return scores, counts


def _unpacked(stored: dict) -> str:
    """A page's text as its document stores it (zlib'd UTF-8)."""
    return zlib.decompress(stored["data"]).decode("utf-8")
