"""An OpenSearch cluster as the paper index: one library shared by a group (a JupyterHub),
searched from every notebook with the same front ends.

``open_index("opensearch://host:9200/papers")`` (``opensearchs://`` for TLS, verified;
``OPENSEARCH_USER`` / ``OPENSEARCH_PASSWORD`` for basic authentication). ``papers`` is an
alias: the papers live in a versioned index behind it, and a rebuild builds a new one and
moves the alias in one request, so no reader sees a half-built index.

The engine does what Whoosh does here by hand: analysis as we analyse (folding, Porter
stems; one analyser for every field, so that a query's words are scored across them as
one field, as BM25F does), a ``search_as_you_type`` field for the word being
typed, ``fuzziness`` for typos and a phrase suggester for "did you mean", highlights in
``<mark>`` with the text HTML-escaped by the engine. Writes of a paper the index holds
carry the ``seq_no`` and ``primary_term`` it was read at, so two writers never lose an
update: the loser reads again and merges again.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ..citations.latex import to_plain
from ..config import local_folder, opensearch_address
from ..paper import Paper, key_suffixes
from ..question import ADVANCED, collections_in, compound_parts, read_question, without_collections
from ..results import AddReport, Hit, IndexBrokenError, SearchResults
from ..sources.identifiers import lookup_form, recognise

SCHEMA_VERSION = 2  # of the mapping and analysers: an index made with another is rebuilt (the message says how)
FIELDS = {"title": 2.0, "abstract": 1.0, "authors": 2.0, "venue": 1.0, "keywords": 1.5}  # as PaperBM25F weighs them
FIELD_NAMES = {"author": "authors", "authors": "authors", "title": "title", "abstract": "abstract",
               "venue": "venue", "keyword": "keywords", "keywords": "keywords"}
BULK_CHUNK = 1000  # papers per bulk request (~5 MB): at 20k papers 1,340 a second, 1,218 in chunks of 500
RETRIES = 5
TITLE_HOLDS_ALL = 3.0  # the boost of a paper whose title has every word: a known item, as Whoosh ranks it first
RARE_PAPERS = 3  # a word in this few papers may be a typo that made another word ...
COMMON_NEIGHBOUR = 50  # ... of a neighbour in at least this many papers (as Whoosh reads it, query.py)
SNIPPET = 200  # characters of abstract shown around the matched words


def _settings(replicas: int) -> dict:
    folding = ["lowercase", "asciifolding"]
    return {
        "settings": {
            "number_of_shards": 1, "number_of_replicas": replicas,
            "analysis": {
                "filter": {"paper_shingle": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 3},
                           "joined_parts": {"type": "pattern_replace", "pattern": "[^\\p{L}\\p{N}]+", "replacement": ""},
                           "nonempty": {"type": "length", "min": 1}},
                "analyzer": {
                    "paper": {"type": "custom", "tokenizer": "standard", "filter": [*folding, "porter_stem"]},
                    "joined": {"type": "custom", "tokenizer": "whitespace",
                               "filter": ["joined_parts", "nonempty", *folding, "porter_stem"]},
                    "typed": {"type": "custom", "tokenizer": "standard", "filter": folding},
                    "shingles": {"type": "custom", "tokenizer": "standard", "filter": [*folding, "paper_shingle"]},
                },
            },
        },
        "mappings": {
            "_meta": {"jupyter_papers_schema": SCHEMA_VERSION},
            "dynamic": "strict",
            "properties": {
                # title.joined: a compound's parts as one word ("Pre-training": "pretraining"),
                # as papers and queries also write it
                "title": {"type": "text", "analyzer": "paper", "fields": {
                    "joined": {"type": "text", "analyzer": "joined"},
                    "typed": {"type": "search_as_you_type", "analyzer": "typed"},
                    "shingles": {"type": "text", "analyzer": "shingles"}}},
                # the abstract's words for spelling candidates: its shingles doubled the
                # import time and the store (20k papers: 1,875 papers/s without, 691 with)
                "abstract": {"type": "text", "analyzer": "paper", "fields": {
                    "words": {"type": "text", "analyzer": "typed"}}},
                "authors": {"type": "text", "analyzer": "paper"},
                "venue": {"type": "text", "analyzer": "paper"},
                "keywords": {"type": "text", "analyzer": "paper"},
                "year": {"type": "integer"},
                "ids": {"type": "keyword"},
                "key": {"type": "keyword"},
                "data": {"type": "object", "enabled": False},
            },
        },
    }


def _document(paper: Paper) -> dict:
    """What the engine indexes of a paper: text as a reader sees it (LaTeX as text), and
    the whole record, unindexed, to give back."""
    ids = {paper.id.lower(), paper.key.lower(), paper.arxiv_id, paper.doi.lower(), *map(str.lower, paper.aliases)}
    document = {"title": to_plain(paper.title), "abstract": to_plain(paper.abstract),
                "authors": ", ".join(map(str, paper.authors)), "venue": paper.venue,
                "keywords": ", ".join(paper.keywords), "ids": sorted(ids - {""}), "key": paper.key,
                "data": paper.to_dict()}
    if paper.year is not None:
        document["year"] = paper.year
    return document


class OpenSearchIndex:
    """The paper index (a ``backends.Library``) over an OpenSearch alias."""

    def __init__(self, url: str):
        """``url``: opensearch[s]://host:port/alias, ``?replicas=N`` for the copies of each
        shard a new index gets (default 0: a one-node cluster stays green)."""
        from opensearchpy import OpenSearch

        parsed = urlparse(url)
        replicas = int(parse_qs(parsed.query).get("replicas", ["0"])[0])
        self.url = url
        host, port, self.alias = opensearch_address(url)
        user, password = os.environ.get("OPENSEARCH_USER"), os.environ.get("OPENSEARCH_PASSWORD")
        self.client = OpenSearch(
            hosts=[{"host": host, "port": port}],
            use_ssl=parsed.scheme.endswith("s"), verify_certs=True,
            http_auth=(user, password) if user else None,
            timeout=30, max_retries=RETRIES, retry_on_timeout=True, transport_class=_patient_transport())
        self.replicas = replicas
        if self.client.indices.exists_alias(name=self.alias):
            mapping = next(iter(self.client.indices.get_mapping(index=self.alias).values()))["mappings"]
            self._schema = mapping.get("_meta", {}).get("jupyter_papers_schema", 1)
        else:
            self._create(self.alias)
            self._schema = SCHEMA_VERSION

    def _readable(self) -> None:
        """Searches need the fields this version's queries ask for."""
        if self._schema != SCHEMA_VERSION:
            raise IndexBrokenError(
                f"The OpenSearch index {self.alias} was made by another version of jupyter-papers (schema "
                f"{self._schema}, this one reads {SCHEMA_VERSION}); rebuild it from the papers it stores, while it "
                f"keeps answering: jupyter-papers --index {self.url} rebuild")

    # the index behind the alias ------------------------------------------------------
    def _create(self, alias: str | None) -> str:
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{os.urandom(3).hex()}"
        body = _settings(self.replicas)
        if alias:
            body["aliases"] = {alias: {}}
        self.client.indices.create(index=name, body=body)
        return name

    def rebuild(self) -> int:
        """Every paper again into a new index, then the alias moved to it in one request."""
        old = list(self.client.indices.get_alias(name=self.alias))
        settings = self.client.indices.get_settings(index=old[0])[old[0]]["settings"]["index"]
        self.replicas = int(settings.get("number_of_replicas", self.replicas))
        fresh = self._create(None)
        from opensearchpy import helpers

        helpers.reindex(self.client, source_index=self.alias, target_index=fresh)
        self.client.indices.refresh(index=fresh)
        self.client.indices.update_aliases(body={"actions": [
            *({"remove": {"index": name, "alias": self.alias}} for name in old),
            {"add": {"index": fresh, "alias": self.alias}}]})
        for name in old:
            self.client.indices.delete(index=name)
        self._schema = SCHEMA_VERSION
        return len(self)

    def close(self) -> None:
        self.client.close()

    # what a folder index has besides ------------------------------------------------
    @property
    def path(self) -> Path:
        """A folder of this user's own for what is not shared: the list of sources."""
        folder = local_folder(self.url)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def sources(self):
        from ..sources.registry import Sources

        return Sources(self)

    def add_identifier(self, identifier: str, settings=None) -> Paper:
        from ..lookups import add_identifier

        return add_identifier(self, identifier, settings)

    def fulltext_records(self) -> dict[str, dict]:
        return {}  # the pages of PDFs are searched in a folder index only (README)

    def index_fulltext(self, papers: Iterable[Paper] | None = None, procs: int = 2, progress: bool = False) -> list:
        return []

    def meaning_status(self) -> dict:
        return {"state": "unavailable", "embedded": 0, "papers": len(self),
                "message": "search by meaning works with a folder index only, not yet with OpenSearch"}

    def embed_later(self, asked: bool = False) -> bool:
        return False

    def embed(self, progress: bool = False) -> int:
        raise RuntimeError(self.meaning_status()["message"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.client.count(index=self.alias)["count"]

    def __iter__(self) -> Iterator[Paper]:
        return self.papers()

    def papers(self) -> Iterator[Paper]:
        from opensearchpy import helpers

        for hit in helpers.scan(self.client, index=self.alias, _source=["data"]):
            yield _stored(hit)

    def _lookup(self, identifier: str) -> dict | None:
        """The stored hit (with seq_no and primary_term) of a paper by id, DOI, arXiv id or key."""
        identifier = (identifier or "").strip()
        if not identifier:
            return None
        answer = self.client.search(index=self.alias, body={
            "query": {"bool": {"should": [{"ids": {"values": [identifier]}}, {"term": {"ids": lookup_form(identifier)}},
                                          {"term": {"ids": identifier.lower()}}]}},
            "size": 1, "seq_no_primary_term": True, "_source": ["data"]})
        hits = answer["hits"]["hits"]
        return hits[0] if hits else None

    def get(self, identifier: str) -> Paper | None:
        hit = self._lookup(identifier)
        return _stored(hit) if hit else None

    def find(self, identifier_or_query: str) -> Paper | None:
        paper = self.get(identifier_or_query)
        if paper is None:
            results = self.search(identifier_or_query, limit=1, prefix=False, highlights=False)
            paper = results.hits[0].paper if results.hits else None
        return paper

    # writing -------------------------------------------------------------------------
    def add(self, papers: Iterable[Paper], progress: bool = False, procs: int = 1, edits: bool = False):
        """Insert or update papers by identity, as PaperIndex.add does: a paper that comes
        again keeps the fields the new record lacks, and its key stays unique. Papers go in
        chunks: one search finds the chunk's papers the index holds, one its keys taken,
        one bulk request writes it (retried with back-off when the cluster pushes back) and
        makes it visible to the next chunk's searches. A paper whose DOI or arXiv id is in the
        chunk under another id waits for the next chunk, to be merged over the first."""
        report = AddReport()
        conflicts: dict[str, Paper] = {}
        chunk: dict[str, Paper] = {}
        identifiers: set[str] = set()
        for paper in papers:
            if paper.id in chunk:  # the same paper twice in one call: one record
                paper = paper.merged_over(chunk[paper.id])
            elif identifiers.intersection(paper.identifiers) or len(chunk) == BULK_CHUNK:
                self._add_chunk(list(chunk.values()), report, conflicts)
                chunk, identifiers = {}, set()
            chunk[paper.id] = paper
            identifiers.update(paper.identifiers)
        if chunk:
            self._add_chunk(list(chunk.values()), report, conflicts)
        self._merge_again(conflicts)
        self.client.indices.refresh(index=self.alias)
        return report

    def _add_chunk(self, papers: list[Paper], report, conflicts: dict[str, Paper]) -> None:
        from opensearchpy import helpers

        held = self._held(papers)
        taken = self._keys_taken({paper.key or paper.base_key() for paper in papers})
        actions = []
        for paper in papers:
            given = paper.id
            old_hit = next((held[i] for i in _identities(paper) if i in held), None)
            old = _stored(old_hit) if old_hit else None
            if old is not None:
                paper = paper.merged_over(old)
                paper.id = old.id
                if not paper.key or paper.key == paper.base_key():
                    paper.key = old.key
            paper.key = _free_key(paper, taken)
            taken[paper.key] = paper.id
            report.held[given] = paper.id
            if old is not None and old.to_dict() == paper.to_dict():
                report.unchanged += 1
                continue
            action = {"_index": self.alias, "_id": paper.id, "_source": _document(paper)}
            if old_hit is not None:
                action.update(if_seq_no=old_hit["_seq_no"], if_primary_term=old_hit["_primary_term"])
                report.updated += 1
            else:
                action["_op_type"] = "create"
                report.added += 1
            actions.append(action)
            report.ids.append(paper.id)
        by_id = {action["_id"]: action for action in actions}
        for ok, item in helpers.streaming_bulk(self.client, actions, chunk_size=BULK_CHUNK, max_retries=RETRIES,
                                               initial_backoff=0.5, raise_on_error=False, refresh=True):
            if not ok:
                operation = next(iter(item.values()))
                if operation.get("status") != 409:
                    raise RuntimeError(f"OpenSearch refused paper {operation.get('_id')}: {operation.get('error')}")
                conflicts[operation["_id"]] = _stored(by_id[operation["_id"]])

    def _merge_again(self, conflicts: dict[str, Paper]) -> None:
        """Another writer changed these papers since they were read: merge over what it
        wrote, and write with what was read, until no one came between."""
        from opensearchpy.exceptions import ConflictError

        for paper_id, paper in conflicts.items():
            for _ in range(RETRIES):
                hit = self.client.get(index=self.alias, id=paper_id, _source=["data"], ignore=404)
                hit = hit if hit.get("found") else None
                merged = paper.merged_over(_stored(hit)) if hit else paper
                concurrency = ({"if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"]} if hit
                               else {"op_type": "create"})
                try:
                    self.client.index(index=self.alias, id=paper_id, body=_document(merged), **concurrency)
                    break
                except ConflictError:
                    continue

    def _held(self, papers: list[Paper]) -> dict[str, dict]:
        """The stored hits of these papers, by each identity they are known by."""
        identities = sorted({i for paper in papers for i in _identities(paper)})
        answer = self.client.search(index=self.alias, body={
            "query": {"bool": {"should": [{"ids": {"values": [p.id for p in papers]}},
                                          {"terms": {"ids": identities}}]}},
            "size": 3 * len(papers), "seq_no_primary_term": True, "_source": ["data", "ids"]})
        held: dict[str, dict] = {}
        for hit in answer["hits"]["hits"]:
            for identity in (hit["_id"].lower(), *hit["_source"].get("ids", [])):
                held.setdefault(identity, hit)
        return held

    def _keys_taken(self, bases: set[str]) -> dict[str, str]:
        """The keys other papers hold that these papers' keys could collide with, and whose
        they are: the bases themselves (one terms query), and for a base that is taken,
        its suffixed forms (a prefix query for those few)."""
        bases = sorted(base for base in bases if base)
        taken = self._keys({"terms": {"key": bases}}) if bases else {}
        clashing = [base for base in bases if base in taken]
        if clashing:
            taken.update(self._keys({"bool": {"should": [{"prefix": {"key": base}} for base in clashing]}}))
        return taken

    def _keys(self, query: dict) -> dict[str, str]:
        answer = self.client.search(index=self.alias, body={"query": query, "size": 10_000, "_source": ["key"]})
        return {hit["_source"]["key"]: hit["_id"] for hit in answer["hits"]["hits"]}

    def remove(self, identifier: str) -> bool:
        hit = self._lookup(identifier)
        if hit is None:
            return False
        self.client.delete(index=self.alias, id=hit["_id"], refresh=True)
        return True

    # searching -----------------------------------------------------------------------
    def search(self, query: str = "", limit: int = 10, offset: int = 0, year_from: int | None = None,
               year_to: int | None = None, prefix: bool | None = None, highlights: bool = True,
               facets: bool = False, sentence: bool | None = None, scope: str | None = None,
               meaning: bool | None = None) -> SearchResults:
        """As PaperIndex.search; the query language is OpenSearch's query_string over our
        field names, and a query it cannot parse is searched as words. The index holds no
        PDF pages: ``in:fulltext`` finds nothing."""
        from opensearchpy.exceptions import RequestError

        self._readable()
        asked = read_question(query, year_from, year_to, prefix, sentence, scope)
        query, prefix, sentence = asked.query, asked.prefix, asked.sentence
        limit, offset = max(0, int(limit)), max(0, int(offset))
        if recognise(asked.text) is not None:
            paper = self.get(asked.text)
            hits = [Hit(paper, 1.0, _plain(paper))] if paper else []
            return SearchResults(query, hits, len(hits), offset, limit)
        if asked.scope == "fulltext":
            return SearchResults(query, [], 0, offset, limit)
        years = {k: v for k, v in (("gte", asked.year_from), ("lte", asked.year_to)) if v is not None}
        filters = [{"range": {"year": years}}] if years else []
        filters += [{"match_phrase": {"keywords": f"collection {name}"}} for name in collections_in(asked.text)]
        text = without_collections(asked.text)
        body: dict = {"from": offset, "size": limit, "track_total_hits": True}
        if facets:
            body["aggs"] = {"year": {"terms": {"field": "year", "size": 1000}}}
        if highlights:
            body["highlight"] = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
                                 "fields": {"title": {"number_of_fragments": 0}, "authors": {"number_of_fragments": 0},
                                            "abstract": {"fragment_size": SNIPPET, "number_of_fragments": 1}}}
        if not text.strip():
            body.update(query={"bool": {"filter": filters}}, sort=[{"year": {"order": "desc", "missing": "_last"}},
                                                                   {"_id": "asc"}])
            return self._results(query, body, offset, limit, highlights=False)
        plain = not ADVANCED.search(text)
        if plain:  # all the words, else any of them; a sentence's papers are those with most of its words
            for operator in (("or",) if sentence else ("and", "or")):
                results = self._words(query, text, body, filters, prefix and not sentence, operator, offset, limit,
                                      highlights, sentence)
                if results.total:
                    break
        else:
            body["query"] = {"bool": {"must": [{"query_string": {
                "query": re.sub(r"\b(author|keyword)s?:", lambda m: FIELD_NAMES[m.group(1)] + ":", text),
                "fields": [f"{name}^{boost}" for name, boost in FIELDS.items()], "default_operator": "and",
                "fuzziness": "AUTO", "lenient": True}}], "filter": filters}}
            try:
                results = self._results(query, body, offset, limit, highlights)
            except RequestError:  # a query the engine cannot parse: its words
                words = re.sub(r'[()"*?:\[\]{}]|\b(?:AND|OR|NOT)\b', " ", text)
                results = self._words(query, words, body, filters, prefix, "or", offset, limit, highlights)
        if results.total < 3 and plain and not sentence:
            results.suggestion = self._suggestion(text)
        return results

    def _words(self, query, text, body, filters, prefix, operator, offset, limit, highlights,
               sentence: bool = False) -> SearchResults:
        """Each word in some field, scored across the fields as one (cross_fields, as BM25F),
        the words side by side first. A word no paper has, or only a few (a typo that made
        another word), is read with a typo or two forgiven (only then: "diffusion" is two
        edits from "differ"); the last word, while typed, also as the start of a word.
        Unless the text is a sentence (its words are its topic, not a paper's name): a
        compound also as its parts ("pretraining": "pre training") or joined as titles
        write it ("Pre-training"), two neighbours also as one word where papers write it
        so, and a paper whose title has every word first, as a known item."""
        fields = [f"{name}^{boost}" for name, boost in FIELDS.items()]
        words = re.findall(r"\S+", text)
        pairs = {} if sentence else {position: (a + b).lower() for position, (a, b) in enumerate(zip(words, words[1:]))
                                     if a.isalpha() and b.isalpha()}
        papers = self._papers_with([*words, *pairs.values()], fields)
        typos = self._typos(words, papers, fields)
        clauses = []
        for position, word in enumerate(words):
            options = [{"multi_match": {"query": word, "fields": fields, "type": "cross_fields"}}]
            if not sentence:
                options += [{"match": {"title.joined": {"query": word, "boost": FIELDS["title"]}}}]
                options += [{"multi_match": {"query": parts, "fields": fields, "type": "phrase"}}
                            for parts in compound_parts(word)]
            if word in typos:
                options.append({"multi_match": {"query": word, "fields": fields, "fuzziness": "AUTO",
                                                "prefix_length": 1}})
            options += [{"multi_match": {"query": pairs[at], "fields": fields}}  # with the word before, after
                        for at in (position - 1, position) if at in pairs and papers[pairs[at]]]
            if prefix and position == len(words) - 1:
                options.append({"multi_match": {"query": word, "type": "bool_prefix", "boost": 2.0,
                                                "fields": ["title", "abstract", "authors"]}})
            clauses.append({"bool": {"should": options, "minimum_should_match": 1}})
        side_by_side = {"multi_match": {"query": text, "type": "phrase", "fields": fields, "slop": 1, "boost": 2.0}}
        wanted = len(clauses) if operator == "and" else 1

        def title_has(word: str) -> dict:
            forgiving = {"fuzziness": "AUTO", "prefix_length": 1} if word in typos else {}
            return {"multi_match": {"query": word, "fields": ["title", "title.joined"], **forgiving}}

        body = dict(body, query={"bool": {
            "must": [{"bool": {"should": clauses, "minimum_should_match": wanted}}],
            "should": [] if sentence else [{"bool": {"must": [title_has(w) for w in words], "boost": TITLE_HOLDS_ALL}}],
            "filter": filters}}, rescore={"window_size": 50, "query": {"rescore_query": side_by_side}})
        return self._results(query, body, offset, limit, highlights)

    def _typos(self, words: list[str], papers: dict[str, int], fields: list[str]) -> set[str]:
        """The words to read with typos forgiven: those no paper has, and those so rare that
        they are likely a slip for a common word one or two edits away."""
        rare = [word for word in words if 0 < papers[word] <= RARE_PAPERS]
        near = self._papers_with(rare, fields, fuzzy=True, enough=COMMON_NEIGHBOUR * (RARE_PAPERS + 1))
        return {word for word in words if not papers[word]} | {
            word for word in rare if near[word] - papers[word] >= COMMON_NEIGHBOUR * papers[word]}

    def _papers_with(self, words: list[str], fields: list[str], fuzzy: bool = False,
                     enough: int = RARE_PAPERS + 1) -> dict[str, int]:
        """How many papers have each word (or, ``fuzzy``, a word a typo or two away),
        counted up to ``enough`` (one multi-search)."""
        distinct = list(dict.fromkeys(words))
        forgiving = {"fuzziness": "AUTO", "prefix_length": 1} if fuzzy else {}
        requests = []
        for word in distinct:
            requests += [{"index": self.alias}, {"size": 0, "track_total_hits": enough, "query": {
                "multi_match": {"query": word, "fields": fields, **forgiving}}}]
        answers = self.client.msearch(body=requests)["responses"] if requests else []
        return {word: answer["hits"]["total"]["value"] for word, answer in zip(distinct, answers)}

    def _suggestion(self, text: str) -> str | None:
        answer = self.client.search(index=self.alias, body={"size": 0, "suggest": {"text": text, "spelling": {
            "phrase": {"field": "title.shingles", "size": 1, "max_errors": 2, "confidence": 0.0,
                       "direct_generator": [{"field": "title.shingles", "suggest_mode": "always", "min_word_length": 3},
                                            {"field": "abstract.words", "suggest_mode": "always",
                                             "min_word_length": 3}]}}}})
        options = answer["suggest"]["spelling"][0]["options"]
        best = options[0]["text"] if options else None
        return best if best and best != text.lower().strip() else None

    def _results(self, query, body, offset, limit, highlights) -> SearchResults:
        answer = self.client.search(index=self.alias, body=body)
        hits = []
        for hit in answer["hits"]["hits"]:
            paper = _stored(hit)
            marked = hit.get("highlight", {})
            shown = _plain(paper)
            if highlights:
                shown.update({name: values[0] for name, values in marked.items()})
            hits.append(Hit(paper, float(hit.get("_score") or 0.0), shown))
        facet = {}
        if "aggregations" in answer:
            facet = {"year": {int(b["key"]): b["doc_count"] for b in answer["aggregations"]["year"]["buckets"]}}
        return SearchResults(query, hits, answer["hits"]["total"]["value"], offset, limit, facets=facet)

    def more_like(self, identifier: str, limit: int = 5, meaning: bool | None = None) -> SearchResults:
        """Papers sharing this one's most distinctive title and abstract words (the engine's
        more_like_this, given the paper's text: given its id, 2.19 found nothing)."""
        hit = self._lookup(identifier)
        if hit is None:
            return SearchResults(f"like:{identifier}", [], 0, 0, limit)
        paper = _stored(hit)
        text = f"{to_plain(paper.title)} {to_plain(paper.title)} {to_plain(paper.abstract)}"
        body = {"size": limit, "query": {"bool": {
            "must": [{"more_like_this": {"fields": ["title", "abstract"], "like": text, "min_term_freq": 1,
                                         "min_doc_freq": 1, "max_query_terms": 20}}],
            "must_not": [{"ids": {"values": [hit["_id"]]}}]}}}
        results = self._results(f"like:{hit['_id']}", body, 0, limit, highlights=False)
        results.total = len(results.hits)
        return results


def _patient_transport():
    """The client's transport, waiting and asking again when the cluster answers 429 (a
    full queue, a circuit breaker): back-pressure, which the client's own retries (at
    once, on 502-504 only) do not wait out."""
    from opensearchpy import Transport
    from opensearchpy.exceptions import TransportError

    class PatientTransport(Transport):
        def perform_request(self, *args, **kwargs):
            for attempt in range(RETRIES):
                try:
                    return super().perform_request(*args, **kwargs)
                except TransportError as error:
                    if error.status_code != 429 or attempt == RETRIES - 1:
                        raise
                    time.sleep(0.5 * 2 ** attempt)

    return PatientTransport


def _stored(hit: dict) -> Paper:
    """The paper a hit (or a bulk action) holds: its whole record, in ``data``."""
    return Paper.from_dict(hit["_source"]["data"])


def _identities(paper: Paper) -> list[str]:
    return [paper.id.lower(), *paper.identifiers]


def _free_key(paper: Paper, taken: dict[str, str]) -> str:
    """The paper's key, or its base with the first suffix no other paper holds."""
    base = paper.key or paper.base_key()
    if taken.get(base, paper.id) == paper.id:
        return base
    return next(base + suffix for suffix in key_suffixes() if taken.get(base + suffix, paper.id) == paper.id)


def _plain(paper: Paper) -> dict[str, str]:
    """A hit's fields as escaped text, before (or without) the engine's highlights."""
    abstract = to_plain(paper.abstract)
    return {"title": html.escape(to_plain(paper.title)), "authors": html.escape(", ".join(map(str, paper.authors))),
            "abstract": html.escape(abstract[:SNIPPET] + ("…" if len(abstract) > SNIPPET else ""))}
