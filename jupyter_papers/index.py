"""PaperIndex: the Whoosh index on disk that every front end searches.

One searcher is kept open and refreshed only when another writer (a kernel, the server)
has committed, since opening a searcher per query costs several times the query itself.
Writers wait for the lock rather than fail, so two processes can add papers at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import query as wq, sorting
from whoosh.index import LockError
from whoosh.util.filelock import try_for

from . import fulltext
from .backends.whoosh import highlight, postings, ranking, sentence, wordsearch
from .backends.whoosh.analysis import SCHEMA_VERSION, PaperBM25F, acronym_expansions, make_schema, stored_paper
from .backends.whoosh.collect import YearColumns
from .backends.whoosh.pages import PageIndex
from .backends.whoosh.query import QueryBuilder, make_parser
from .backends.whoosh.rebuild import rebuild_index, restore_aside
from .backends.whoosh.semantic import Meaning, wanted as meaning_wanted
from .backends.whoosh.snapshot import Snapshot
from .backends.whoosh.storage import MappedStorage
from .backends.whoosh.writers import BoundMpWriter, segment_writer
from .backends.whoosh.writers import WorkerFailed  # noqa: F401 - for the front ends, which import no backend
from .citations.latex import to_plain
from .meaning.fusion import RERANKED, reciprocal_rank
from .paper import Paper, key_suffixes
from .question import collections_in, has_collection, is_plain, plain_words, read_question
from .results import AddReport, Hit, IndexBrokenError, SearchResults
from .sources import Problem
from .sources.identifiers import lookup_form, recognise

INDEX_NAME = "papers"
VERSION_FILE = "jupyter-papers-schema"
LOCK_TIMEOUT = 120.0
WRITER_MB = 128  # per indexing process: more gained nothing at 158k papers and cost memory
FUSION_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
SENTENCE_COVERAGE = 0.5  # a page holding this share of a sentence's words is a match of it
WEAK_PAGE = 0.001  # what a page with fewer of the words weighs in the fusion: it reorders nothing found otherwise
RANKED_CANDIDATES = 50  # each step ranks this many by the whole query (PaperIndex._run)
REMEMBERED_RESULTS = 256  # pages of results kept per index snapshot
REBUILD_HINT = "rebuild it with `jupyter-papers rebuild`"
# What Whoosh raises reading damaged files (a truncated column gives a UnicodeError).
_DAMAGE = (UnicodeError, EOFError, struct.error, zlib.error, OSError, pickle.UnpicklingError)



class PaperIndex:
    """A folder holding a Whoosh index of papers."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.RLock()  # the shared searcher
        self._write_lock = threading.Lock()  # writers of this process (Whoosh's lock holds off other processes)
        self._ix = self._open_or_create()
        self._snapshot = Snapshot(lambda: self._ix.searcher(weighting=PaperBM25F()))
        self._parser = make_parser(self._ix.schema)
        self._highlighter = highlight.Highlighter(self._ix.schema)
        self._years = YearColumns()
        self._lengths = postings.FieldLengths()
        self._pages = PageIndex(self.path)
        self._meaning = Meaning(self.path)

    # opening ---------------------------------------------------------------------------
    def _open_or_create(self):
        version_file = self.path / VERSION_FILE
        restore_aside(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        storage = MappedStorage(str(self.path))
        try:
            exists = storage.index_exists(INDEX_NAME)
        except Exception as error:  # a table of contents Whoosh cannot read: damaged, or a later version's schema
            raise self._unreadable(error) from error
        if not exists:
            ix = storage.create_index(make_schema(), indexname=INDEX_NAME)
            version_file.write_text(SCHEMA_VERSION)
            return ix
        found = version_file.read_text().strip() if version_file.exists() else "?"
        if found != SCHEMA_VERSION:
            raise IndexBrokenError(
                f"The paper index at {self.path} was made by another version (schema {found}, "
                f"this version needs {SCHEMA_VERSION}): {REBUILD_HINT}.")
        try:
            return storage.open_index(INDEX_NAME)
        except Exception as error:  # whoosh raises many types for damaged files
            raise self._unreadable(error) from error

    def _unreadable(self, error: Exception) -> IndexBrokenError:
        return IndexBrokenError(f"The paper index at {self.path} cannot be read ({type(error).__name__}: "
                                f"{error}): {REBUILD_HINT}.")

    @contextmanager
    def _reading(self):
        """Whoosh raises many kinds of error on damaged files; a reader gets the one error
        that says how to rebuild."""
        with self._lock:
            try:
                yield self._current_searcher()
            except _DAMAGE as error:
                raise self._unreadable(error) from error

    def _current_searcher(self):
        """The shared searcher, refreshed if another writer committed since it opened."""
        try:
            return self._snapshot.current()
        except Exception as error:
            raise self._unreadable(error) from error

    @property
    def _memo(self) -> dict:
        """What queries worked out about the current snapshot (query.QueryBuilder, caches)."""
        return self._snapshot.memo

    def close(self) -> None:
        with self._lock:
            self._snapshot.close()
            self._pages.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        with self._reading() as searcher:
            return searcher.doc_count()

    def __iter__(self) -> Iterator[Paper]:
        return self.papers()

    def papers(self) -> Iterator[Paper]:
        with self._reading() as searcher:
            stored = list(searcher.all_stored_fields())
        for fields in stored:
            yield stored_paper(fields)

    def get(self, identifier: str) -> Paper | None:
        """A paper by its id, arXiv id (or URL), DOI or citation key."""
        with self._reading() as searcher:
            return self._get(searcher, identifier)

    def add_identifier(self, identifier: str, settings=None) -> Paper:
        """The paper a DOI, arXiv id, PubMed id or ISBN names: this index's, else looked up
        online and kept as a paper of the "looked-up" source (lookups.py)."""
        from .lookups import add_identifier

        return add_identifier(self, identifier, settings)

    def find(self, identifier_or_query: str) -> Paper | None:
        """The paper an id names, else the best match of the text as a query: what a person
        means by "cite resonance rope" as much as by "cite 2403.00071"."""
        paper = self.get(identifier_or_query)
        if paper is None:
            results = self.search(identifier_or_query, limit=1, prefix=False, highlights=False)
            paper = results.hits[0].paper if results.hits else None
        return paper

    def _get(self, searcher, identifier: str) -> Paper | None:
        identifier = (identifier or "").strip()
        fields = searcher.document(id=identifier)
        if fields is None:  # a DOI, arXiv id, pmid:… or isbn:…, in any form recognise() reads
            docnum = next(iter(searcher.docs_for_query(wq.Term("ids", lookup_form(identifier)))), None)
            fields = searcher.stored_fields(docnum) if docnum is not None else None
        return stored_paper(fields) if fields else None

    # writing ---------------------------------------------------------------------------
    def _writer(self, procs: int = 1):
        try:
            # compound=False: Whoosh reads a compound segment by copying each of its parts into
            # memory (600 MB held, 0.3 s to open at 158k papers); separate files are read in place
            options = dict(timeout=LOCK_TIMEOUT, delay=0.25, limitmb=WRITER_MB, compound=False)
            if procs > 1:  # one segment per process, not merged: merging 158k papers took minutes
                return BoundMpWriter(self._ix, procs=procs, multisegment=True, **options)
            return segment_writer(self._ix, **options)
        except LockError as error:
            raise TimeoutError(
                f"The paper index at {self.path} stayed locked by another process for {LOCK_TIMEOUT:.0f} s; "
                "try again when its import has finished.") from error

    def add(self, papers: Iterable[Paper], progress: bool = False, procs: int = 1, edits: bool = False) -> AddReport:
        """Insert or update papers by id. A paper that comes again keeps the fields the new
        record lacks; its citation key stays unique within the index. ``edits``: the
        records are the current state of the source the indexed ones came from (a synced
        source), so a field removed there is removed here too. ``procs`` > 1 indexes in
        that many forked processes: for a command-line import, never inside a server."""
        report = AddReport()
        again = self._write(_progress(papers, progress), report, merge=True, procs=procs, edits=edits)
        while again:  # papers that came twice in this call, written over their first record
            again = self._write(again.values(), report, merge=False, edits=edits)
        report.skipped.extend(getattr(papers, "problems", []))
        if report.attached:
            report.fulltext = self.index_fulltext(report.attached, progress=progress)
        if report.changed:
            self._meaning.embed_later()
        return report

    # meaning ---------------------------------------------------------------------------
    def embed(self, progress: bool = False) -> int:
        """Embed every paper that has no vector yet, now (the background does it after
        each import otherwise); returns how many were encoded. Needs the ``[semantic]``
        extra (meaning.model.ModelUnavailable says how to get it)."""
        return self._meaning.embed(progress)

    def embed_later(self, asked: bool = False) -> bool:
        """Start embedding what is missing in a background process (if meaning is on and
        installed; after imports only if JUPYTER_PAPERS_EMBED is not "manual", unless
        ``asked``); True if one was started."""
        return self._meaning.embed_later(asked)

    def meaning_status(self) -> dict:
        """How far search by meaning reaches: {"state": "unavailable" | "off" | "partial" |
        "embedding" | "complete", "embedded", "papers", "message"}."""
        with self._reading() as searcher:
            return self._meaning.status(searcher, self._memo)

    def fulltext_records(self) -> dict[str, dict]:
        """Each paper's PDF as the page index knows it: {"pdf", "pages", "problem", ...}."""
        return self._pages.file_records() if self._pages.exists() else {}

    def index_fulltext(self, papers: Iterable[Paper] | None = None, procs: int = 2,
                       progress: bool = False) -> list[Problem]:
        """Make the text of these papers' PDFs (all the index's, by default) searchable, as
        far as it changed (fulltext.py); returns what could not be read."""
        with self._write_lock:
            return fulltext.update(self._pages, self.papers() if papers is None else papers, procs, progress)

    def _write(self, papers: Iterable[Paper], report: AddReport, merge: bool, procs: int = 1,
               edits: bool = False) -> dict[str, Paper]:
        """One writer, one commit. A Whoosh writer cannot replace a document it has not
        committed yet, so a paper seen twice (by id, DOI or arXiv id) is held back and
        returned, to be written over the first once it is committed. ``merge=False`` keeps
        the small follow-up commit from rewriting the large segment just written (with the
        158k-paper corpus, such merges took the import to 19 GB)."""
        written: set[str] = set()      # ids, DOIs and arXiv ids of the papers of this writer
        keys: dict[str, str] = {}      # key -> id, for the papers of this writer
        numbering: dict = {}           # base key -> its suffixes, where the last one stopped
        again: dict[str, Paper] = {}
        with self._write_lock:  # not the searcher's lock: searches never wait for an import
            writer = self._writer(procs)
            try:
                searcher = writer.searcher()
                for paper in papers:
                    given = paper.id
                    if written.intersection([paper.id, *paper.identifiers]):
                        again[paper.id] = paper.merged_over(again[paper.id]) if paper.id in again else paper
                        continue
                    old = _same_paper(searcher, paper) if searcher.doc_count_all() else None
                    if old is not None and _another_record(paper, old):
                        paper, changes = paper.merged_as_duplicate(old)
                        if changes:
                            report.merged.append(f"{old.key}: the same paper as another record; " + "; ".join(changes))
                    elif old is not None:
                        edited = edits and paper.source == old.source
                        paper = dataclasses.replace(paper, aliases=old.aliases) if edited else paper.merged_over(old)
                        paper.id = old.id  # ids stay stable: a paper that gains a DOI is still itself
                        if not paper.key or paper.key != old.key and paper.key == paper.base_key():
                            paper.key = old.key
                    paper.key = self._unique_key(searcher, paper, keys, numbering)
                    report.held[given] = paper.id
                    if paper.extra.get("pdf") or old is not None and old.extra.get("pdf"):
                        report.attached.append(paper)
                    if old is not None and _record(paper) == _record(old):
                        report.unchanged += 1
                        continue
                    if old is not None:  # replaced with this writer's searcher: update_document
                        report.updated += 1  # opens one per call (an import of 158k papers took 1.5 GB)
                        writer.delete_by_term("id", paper.id, searcher=searcher)
                    else:
                        report.added += 1
                    writer.add_document(**_fields(paper))
                    written.update([paper.id, *paper.identifiers])
                    keys[paper.key] = paper.id
                    report.ids.append(paper.id)
                writer.commit(merge=merge)
            except BaseException:
                writer.cancel()
                raise
        return again

    @staticmethod
    def _unique_key(searcher, paper: Paper, keys: dict[str, str], numbering: dict) -> str:
        """The paper's key, or its base with the first free suffix. ``numbering`` resumes
        each base's suffixes where the last paper of that base stopped, so a thousand
        papers sharing a base cost a thousand look-ups, not half a million."""
        def free(candidate: str) -> bool:
            owner = keys.get(candidate)
            if owner is None and searcher.doc_count_all():  # a first import has nothing to ask
                stored = searcher.document(key=candidate)
                if stored is None:  # another paper's alias is taken too
                    alias = next(iter(searcher.docs_for_query(wq.Term("ids", candidate.lower()))), None)
                    stored = searcher.stored_fields(alias) if alias is not None else None
                owner = stored["id"] if stored else None
            return owner is None or owner == paper.id

        base = paper.key or paper.base_key()
        if free(base):
            return base
        suffixes = numbering.setdefault(base, key_suffixes())
        return next(base + suffix for suffix in suffixes if free(base + suffix))

    @property
    def sources(self):
        """The files, folders and Zotero libraries this index is kept in step with
        (``sources.registry.Sources``: add, add_zotero, list, remove, sync)."""
        from .sources.registry import Sources

        return Sources(self)

    def remove(self, identifier: str) -> bool:
        paper = self.get(identifier)
        if paper is None:
            return False
        with self._write_lock:
            writer = self._writer()
            writer.delete_by_term("id", paper.id)
            writer.commit()
            if self._pages.exists():
                self._pages.write([], forget=[paper.id])
        return True

    # searching -------------------------------------------------------------------------
    def search(self, query: str = "", limit: int = 10, offset: int = 0, year_from: int | None = None,
               year_to: int | None = None, prefix: bool | None = None, highlights: bool = True,
               facets: bool = False, sentence: bool | None = None, scope: str | None = None,
               meaning: bool | None = None) -> SearchResults:
        """Never raises on what a person types. ``prefix`` (default: the query does not end
        in a space) lets the last word match its completions. ``facets`` (counts by year)
        costs a look at every match, so it is asked for, not default. ``sentence``: read
        the text as a claim or a passage (papers for it, not a paper by its name); by
        default, when it is one (many words, no query syntax). ``scope``: "all" (titles,
        abstracts, authors and the PDFs' pages), "metadata" or "fulltext"; ``in:fulltext``
        and ``in:metadata`` in the query say the same. ``meaning``: re-rank the best word
        matches by meaning too (True), or not (False); by default for sentences, as the
        ``JUPYTER_PAPERS_MEANING`` setting says (auto, off, always)."""
        asked = read_question(query, year_from, year_to, prefix, sentence, scope)
        query, text, years, scope, prefix, sentence = (asked.query, asked.text, asked.years, asked.scope, asked.prefix,
                                                       asked.sentence)
        limit, offset = max(0, int(limit)), max(0, int(offset))
        meaning = meaning_wanted(meaning, sentence)
        with self._reading() as searcher:
            identifier = recognise(text)
            if identifier is not None:  # that paper, or none: a DOI's digits are not words to look for
                pinned = self._get(searcher, text)
                hits = [Hit(pinned, 1.0, _plain_highlights(pinned))] if pinned is not None else []
                return SearchResults(query, hits, len(hits), offset, limit)
            if not text.strip():
                return self._newest(searcher, query, limit, offset, years, facets)
            # a query with fields, phrases or operators is the index's own; its words alone are
            # searched in the pages when asked for ("fulltext"), the rest is not
            wanted = scope == "fulltext" or scope == "all" and not facets and (sentence or is_plain(text))
            pages = self._pages.current() if wanted else None
            if scope == "fulltext" or pages is None:
                results = SearchResults(query, [], 0, offset, limit) if scope == "fulltext" else self._metadata(
                    searcher, query, text, limit, offset, years, prefix, highlights, facets, sentence, meaning)
                return self._with_pages(searcher, pages, results, text, prefix, sentence, years) if pages else results
            results = self._metadata(searcher, query, text, offset + limit, 0, years, prefix, highlights, facets,
                                     sentence, meaning)
            return self._with_pages(searcher, pages, results, text, prefix, sentence, years, offset, limit)

    def _metadata(self, searcher, query, text, limit, offset, years, prefix, highlights, facets,
                  sentence, meaning) -> SearchResults:
        """Titles, abstracts, authors and keywords: a sentence term at a time, else the
        query's plan (the query language, or words widening from all to any)."""
        if sentence and not facets:
            return self._sentence(searcher, query, text, limit, offset, years, highlights, meaning)
        if meaning:
            return self._by_meaning(searcher, query, text, limit, offset, years, prefix, highlights, facets)
        builder = QueryBuilder(searcher, searcher.schema, self._parser, self._memo)
        plan = builder.build(text, prefix)
        if plan.empty:
            return SearchResults(query, [], 0, offset, limit)
        results = self._remembered_run(searcher, query, plan, limit, offset, years, highlights, facets)
        if plan.parsed is not None and results.total == 0 and not has_collection(text):  # try the words
            words = builder.build(text, prefix, as_words=True)
            if not words.empty:
                results = self._remembered_run(searcher, query, words, limit, offset, years, highlights, facets)
        return results

    def _with_pages(self, searcher, pages, results: SearchResults, text: str, prefix: bool, sentence: bool, years,
                    offset: int | None = None, limit: int | None = None) -> SearchResults:
        """The PDFs' pages searched for the same words. Given only the page hits (the
        "fulltext" scope, ``offset`` None), they are the ranking; else the two rankings are
        fused by reciprocal rank, so a paper found in both rises and one found only in its
        PDF joins the list, while papers without PDFs keep their order among themselves.
        Every hit with matching pages shows the best one to three."""
        terms = self._pages.terms(pages, plain_words(text), prefix)
        collections = collections_in(text)
        alone = offset is None
        offset = results.offset if alone else offset
        limit = results.limit if alone else limit
        found, page_total = self._pages.search(pages, terms, offset + limit, sentence)
        by_id = {entry.paper: entry for entry in found}
        listed = {hit.paper.id: hit for hit in results.hits}
        if alone:
            score = {entry.paper: entry.score for entry in found}
            total = page_total
        else:
            score = {paper_id: 1 / (FUSION_K + rank + 1) for rank, paper_id in enumerate(listed)}
            for rank, entry in enumerate(found):
                # a page with all the words (a sentence's: half) counts as much as a paper's title and
                # abstract; a page with fewer only orders the papers found nowhere else
                strong = entry.coverage >= (SENTENCE_COVERAGE if sentence else 1.0)
                score[entry.paper] = score.get(entry.paper, 0.0) + (1.0 if strong else WEAK_PAGE) / (FUSION_K + rank + 1)
            total = results.total + sum(paper_id not in listed for paper_id in by_id)
        # ties (first in one list, first in the other) go to the page that has every word
        order = sorted(score, key=lambda i: (-score[i], -(by_id[i].coverage if i in by_id else 0.0)))
        hits = []
        for paper_id in order:  # the papers found only in their PDFs are read as far as the page goes
            hit = listed.get(paper_id)
            if hit is None:
                paper = self._get(searcher, paper_id)
                if paper is None or years is not None and not _in_years(paper.year, years) or not all(
                        name in paper.extra.get("collections", "").split("; ") for name in collections):
                    continue
                hit = Hit(paper, 0.0, _plain_highlights(paper))
            hits.append(dataclasses.replace(hit, score=score[paper_id]))
            if len(hits) == offset + limit:
                break
        hits = hits[offset:]
        marked = {word for alternatives in terms for word in alternatives}
        for hit in hits:
            entry = by_id.get(hit.paper.id)
            if entry is not None:
                hit.pages = [{"page": page.page, "snippet": self._highlighter.snippet(
                    self._pages.page_text(pages, page.docnum), marked, "abstract") or ""} for page in entry.pages]
        return dataclasses.replace(results, hits=hits, total=max(total, len(hits)), offset=offset, limit=limit)

    def _remembered_run(self, searcher, query, plan, *options) -> SearchResults:
        """A search box sends a query per key press, and many spell the same plan: "Learning F"
        waits for the next letter, "learni" and "learnin" complete to the same words, a
        person types back over what they typed. The answers of the last plans are kept for
        this index snapshot (a commit starts afresh)."""
        remembered = self._memo.setdefault("results", OrderedDict())
        key = (plan.key(), *options)
        results = remembered.get(key)
        if results is None:
            results = remembered[key] = self._run(searcher, query, plan, *options)
            if len(remembered) > REMEMBERED_RESULTS:
                remembered.popitem(last=False)
        else:
            remembered.move_to_end(key)
        return dataclasses.replace(results, query=query)

    def _sentence(self, searcher, query, text, limit, offset, years, with_highlights, meaning) -> SearchResults:
        """A claim, a paragraph's topic or a pasted title, scored term at a time
        (sentence.py); with meaning, its best word matches re-ranked by meaning too."""
        terms = sentence.sentence_terms(searcher.schema, text)
        depth = max(offset + limit, RERANKED) if meaning else offset + limit
        remembered = self._memo.setdefault("sentences", OrderedDict())
        key = (tuple(terms), depth, years)
        if key not in remembered:
            remembered[key] = sentence.rank_sentence(searcher, terms, depth, years, self._years, self._lengths,
                                                     postings.cached_postings(self._memo))
            if len(remembered) > REMEMBERED_RESULTS:
                remembered.popitem(last=False)
        ranked, total = remembered[key]
        reach = None
        if meaning:
            ranked, reach = self._meaning.reranked(searcher, self._memo, text, ranked)
        marked = {"title": set(terms), "abstract": set(terms)} if with_highlights else {}
        hits = []
        for score, docnum in ranked[offset:offset + limit]:
            paper = stored_paper(searcher.stored_fields(docnum))
            hits.append(Hit(paper, score, self._highlights(paper, marked) if with_highlights else {}))
        return SearchResults(query, hits, total, offset, limit, meaning=reach)

    def _by_meaning(self, searcher, query, text, limit, offset, years, prefix, highlights, facets) -> SearchResults:
        """A query that is not a sentence, meaning forced: its best word matches re-ranked."""
        words = self._metadata(searcher, query, text, max(offset + limit, RERANKED), 0, years, prefix, highlights,
                               facets, False, False)
        by_docnum = {searcher.document_number(id=hit.paper.id): hit for hit in words.hits}
        ranked, reach = self._meaning.reranked(searcher, self._memo, text,
                                               [(hit.score, docnum) for docnum, hit in by_docnum.items()])
        hits = [dataclasses.replace(by_docnum[docnum], score=score) for score, docnum in ranked[offset:offset + limit]]
        return dataclasses.replace(words, hits=hits, offset=offset, limit=limit, meaning=reach)

    def _newest(self, searcher, query, limit, offset, years, with_facets) -> SearchResults:
        facet = sorting.MultiFacet([sorting.FieldFacet("year", reverse=True), sorting.FieldFacet("id")])
        results, _ = ranking.timed_search(searcher, wq.Every(), offset + limit or None, years,
                                          ranking.year_groups(with_facets), self._years, sortedby=facet)
        hits = [_listed_hit(hit.fields(), 0.0) for hit in results[offset:]]  # sorted, not scored
        return SearchResults(query, hits[:limit], len(results), offset, limit, facets=ranking.facets(results, with_facets))

    def _run(self, searcher, query, plan, limit, offset, years, with_highlights, with_facets) -> SearchResults:
        """Words and the query language's terms go the numpy way (wordsearch.py); quoted
        phrases, NOT, ranges and boosts through Whoosh's matchers."""
        wanted = offset + limit
        candidates = max(wanted, RANKED_CANDIDATES)
        clauses = wordsearch.clauses_of(plan)
        if clauses is not None:
            ranked = wordsearch.rank(searcher, plan, clauses, wanted, candidates, not with_facets, with_facets,
                                     years, self._years, self._lengths, self._memo)
        else:
            ranked = ranking.rank_steps(searcher, plan, wanted, candidates, with_facets, years, self._years)
        terms = ranking.terms_by_field(plan, searcher) if with_highlights else {}
        hits = []
        for score, docnum in ranked.hits[offset:wanted]:
            paper = stored_paper(searcher.stored_fields(docnum))
            hits.append(Hit(paper, float(score), self._highlights(paper, terms) if with_highlights else {}))
        return SearchResults(query, hits, ranked.total, offset, limit, plan.suggestion, ranked.facets,
                             ranked.truncated, ranked.exact)

    def _highlights(self, paper: Paper, terms: dict[str, set[str]]) -> dict[str, str]:
        """Highlights of the text as a reader sees it: LaTeX read as text (``$4\\times$`` -> 4×),
        since the sidebar and the terminal render no math."""
        marker = self._highlighter
        title, abstract, authors = to_plain(paper.title), to_plain(paper.abstract), ", ".join(paper.authors)
        plain = highlight.plain(title, abstract, authors)
        return {"title": marker.whole(title, terms.get("title"), "title") or plain["title"],
                "abstract": marker.snippet(abstract, terms.get("abstract"), "abstract") or plain["abstract"],
                "authors": marker.whole(authors, terms.get("authors"), "authors") or plain["authors"]}

    def more_like(self, identifier: str, limit: int = 5, meaning: bool | None = None) -> SearchResults:
        """Papers whose title and abstract share the most distinctive words with this one,
        and (unless ``meaning`` is False or the setting is off) those nearest it in
        meaning, the two lists fused by reciprocal rank."""
        paper = self.get(identifier)
        if paper is None:
            return SearchResults(f"like:{identifier}", [], 0, 0, limit)
        with self._reading() as searcher:
            docnum = searcher.document_number(id=paper.id)
            text = f"{paper.title} {paper.title} {paper.abstract}"
            by_words = searcher.more_like(docnum, "abstract", text=text, top=limit, numterms=20)
            hits = {hit.docnum: _listed_hit(hit.fields(), float(hit.score or 0.0)) for hit in by_words}
            near, reach = (self._meaning.neighbours(searcher, self._memo, docnum, limit)
                           if meaning_wanted(meaning, True) else ([], None))
            if near:
                for score, other in near:
                    hits.setdefault(other, _listed_hit(searcher.stored_fields(other), score))
                order = reciprocal_rank(list(hits)[:len(by_words)], [other for _, other in near])
                hits = {other: hits[other] for other in order}
            listed = list(hits.values())[:limit]
        return SearchResults(f"like:{paper.id}", listed, len(listed), 0, limit, meaning=reach)

    # maintenance -----------------------------------------------------------------------
    def rebuild(self) -> int:
        """Index every stored paper again into a fresh index built beside this one (after
        an upgrade or damage); returns how many papers it holds."""
        with self._write_lock, self._lock:
            self.close()
            report = rebuild_index(self.path)
            self._ix = self._open_or_create()
            self._parser = make_parser(self._ix.schema)
        self.embed_later()
        return report.papers


@contextmanager
def holding_write_lock(path: Path, timeout: float):
    """The index's own write lock (the one Whoosh's writers take), held for a whole
    rebuild: writers wait for it rather than write into a folder about to be replaced."""
    lock = MappedStorage(str(path)).lock(f"{INDEX_NAME}_WRITELOCK")
    if not try_for(lock.acquire, timeout=timeout, delay=0.25):
        raise TimeoutError(f"The paper index at {path} stayed locked by another process for {timeout:.0f} s; "
                           "try again when its import has finished.")
    try:
        yield
    finally:
        lock.release()


def _progress(papers: Iterable[Paper], enabled: bool) -> Iterable[Paper]:
    if not enabled:
        return papers
    from tqdm import tqdm

    return tqdm(papers, desc="indexing", unit=" papers", mininterval=0.5)


def _fields(paper: Paper) -> dict:
    ids = {paper.id.lower(), paper.key.lower(), paper.arxiv_id, paper.doi.lower(), *map(str.lower, paper.aliases),
           _file_identity(paper), *_catalogue_ids(paper)} - {""}
    fields = dict(
        id=paper.id, ids=" ".join(sorted(ids)), key=paper.key, abstract=paper.abstract,
        title=" ".join([paper.title, *acronym_expansions(paper.title, paper.abstract)]),
        words=f"{paper.title} {paper.abstract}",
        authors=", ".join(paper.authors), venue=paper.venue, keywords=", ".join(paper.keywords),
        data=json.dumps(paper.to_dict(), ensure_ascii=False),
    )
    if paper.year is not None and 0 < paper.year < 65536:
        fields["year"] = paper.year
    return fields


def _catalogue_ids(paper: Paper) -> list[str]:
    """"pmid:…" and "isbn:…" as a lookup names them (sources/identifiers.py), so the paper
    a PubMed id or an ISBN was looked up by is found by it again."""
    isbn = re.sub(r"[^0-9Xx]", "", str(paper.csl.get("ISBN", "")).split(",")[0]).lower()
    return [f"pmid:{paper.extra['pmid']}" if paper.extra.get("pmid") else "", f"isbn:{isbn}" if isbn else ""]


def _file_identity(paper: Paper) -> str:
    """A term for the PDF a record names (paths hold spaces; ids are split on them)."""
    pdf = paper.extra.get("pdf", "")
    return "file:" + hashlib.sha1(pdf.encode("utf-8")).hexdigest()[:20] if pdf else ""


def _same_paper(searcher, paper: Paper) -> Paper | None:
    """The stored record of this paper: the one with its id, else the one with its DOI or
    arXiv id, else the one its own source gave the same citation key (a .bib entry that
    gained a DOI). Never one found by title, nor another source's key."""
    fields = searcher.document(id=paper.id)
    if fields is not None:
        return stored_paper(fields)
    for identifier in paper.identifiers:
        for docnum in searcher.docs_for_query(wq.Term("ids", identifier)):
            return stored_paper(searcher.stored_fields(docnum))
    if paper.extra.get("pdf"):  # a record of a PDF known only by its file, or the other way round
        for docnum in searcher.docs_for_query(wq.Term("ids", _file_identity(paper))):
            old = stored_paper(searcher.stored_fields(docnum))
            if old.guessed or paper.guessed:
                return old
    if paper.key and paper.source:
        for docnum in searcher.docs_for_query(wq.Term("ids", paper.key.lower())):
            old = stored_paper(searcher.stored_fields(docnum))
            conflict = (old.doi and paper.doi and old.doi.lower() != paper.doi.lower()) or (
                old.arxiv_id and paper.arxiv_id and old.arxiv_id != paper.arxiv_id)
            if old.key == paper.key and old.source == paper.source and not conflict:
                return old
    return None


def _another_record(paper: Paper, old: Paper) -> bool:
    """A record of a paper the index holds that is not that record again (or edited in its
    own source): it comes under another key, or from another source."""
    if bool(paper.guessed) != bool(old.guessed):  # a PDF's guesses and a record of the paper
        return True
    return bool(paper.key and old.key and paper.key != old.key and paper.key not in old.aliases
                and paper.key != paper.base_key()) or bool(paper.source and old.source and paper.source != old.source)


def _record(paper: Paper) -> dict:
    """What makes a record changed: everything but which file it was read from last."""
    return {k: v for k, v in paper.to_dict().items() if k != "source"}


def _in_years(year: int | None, years: tuple[int | None, int | None]) -> bool:
    low, high = years
    return year is not None and (low is None or year >= low) and (high is None or year <= high)


def _listed_hit(fields: dict, score: float) -> Hit:
    """A hit shown without query highlights (newest first, related papers)."""
    paper = stored_paper(fields)
    return Hit(paper, score, _plain_highlights(paper))


def _plain_highlights(paper: Paper) -> dict[str, str]:
    return highlight.plain(to_plain(paper.title), to_plain(paper.abstract), ", ".join(paper.authors))
