"""A sentence as the query: the claim a writer is about to make, a paragraph's topic, a
pasted title. Many plain words, no syntax.

The word-by-word search (query.py) asks Whoosh for matches of every word in every field,
through a tree of matchers and per-document scoring calls: fine for three words, but a
SciFact claim took 92 ms there, 9x SQLite FTS5. Here each distinct word's posting lists
are read whole (and kept: postings.PostingCache), and scored at once with numpy (BM25F
over title and abstract): the cost is the postings read, not the matchers walked (1.6 ms
a claim, FTS5 11.3 ms). A paper whose title holds every word of the query (a pasted
title) comes first.
"""

from __future__ import annotations

import numpy as np

from .collect import shown_papers
from .postings import FieldLengths, PostingCache

FIELDS = ("title", "abstract")
# BM25F, tuned on SciFact's train split (k1 0.9-2.0, b 0.6-0.9, title 1-5: 0.695-0.703)
K1, B = 1.2, 0.75
WEIGHTS = {"title": 2.0, "abstract": 1.0}
# Words in more than this share of the papers are left out: they barely move the top ten
# and their postings cost most ("model" is in half of an ML corpus). SciFact train nDCG@10:
# all words 0.703, 0.2 0.703, 0.1 0.688; sentences of 50k abstracts: p95 182 -> 76 ms.
COMMON_SHARE = 0.2
TITLE_HOLDS_ALL = 1000.0  # a paper whose title has every word of the query comes first
def sentence_terms(schema, text: str) -> list[str]:
    """The query's distinct words as the abstract field indexes them (stemmed, stop words
    out); titles are indexed with the same stems."""
    seen: dict[str, None] = {}
    for token in schema["abstract"].analyzer(text, mode="query"):
        seen.setdefault(token.text, None)
    return list(seen)


def rank_sentence(searcher, terms: list[str], wanted: int, years, year_columns, lengths: FieldLengths,
                  cache: PostingCache):
    """The best ``wanted`` (score, docnum) pairs for the terms and how many papers match.
    ``years``: a (from, to) pair, either end None, or None. Fields are weighted before
    BM25 saturates a word's frequency (BM25F): on SciFact's train split, nDCG@10 0.703
    against 0.687 scoring each field apart. Pseudo-relevance feedback (top 3-10 papers'
    words added) lowered it to 0.61-0.695."""
    documents = searcher.doc_count_all()
    reader = searcher.reader()
    # a word's rarity in the papers' text: the field where it is most common
    frequency = {t: max(searcher.doc_frequency(f, t) for f in FIELDS) for t in terms}
    present = [t for t in terms if frequency[t]]
    present = [t for t in present if frequency[t] <= COMMON_SHARE * documents] or present
    idf = {t: np.log(1 + (documents - frequency[t] + 0.5) / (frequency[t] + 0.5)) for t in present}
    title_terms = sum(1 for t in present if ("title", t) in reader)
    average = {f: (searcher.field_length(f) / documents if documents else 0.0) or 1.0 for f in FIELDS}
    best: list[tuple[float, int]] = []
    matched = 0
    for leaf, offset in searcher.leaf_searchers():
        segment = leaf.reader()
        count = segment.doc_count_all()
        scores = np.zeros(count, dtype=np.float32)
        weighted = np.zeros(count, dtype=np.float32)  # one word's weighted frequency, summed over fields
        in_title = np.zeros(count, dtype=np.int16)
        norms = {f: WEIGHTS[f] / ((1 - B) + B * lengths.of(segment, f) / average[f]) for f in FIELDS}
        for term in present:
            touched = []
            for fieldname in FIELDS:
                postings = cache.get(segment, fieldname, term)
                ids, tf = postings.ids, postings.tf
                weighted[ids] += tf * norms[fieldname][ids]
                touched.append(ids)
                if fieldname == "title":
                    in_title[ids] += 1
            if touched:
                ids = np.unique(np.concatenate(touched))
                tf = weighted[ids]
                scores[ids] += idf[term] * tf * (K1 + 1) / (tf + K1)
                weighted[ids] = 0
        if title_terms > 1:
            scores[in_title == title_terms] += TITLE_HOLDS_ALL
        scores[~shown_papers(leaf, years, year_columns)] = 0
        hits = np.flatnonzero(scores)
        matched += len(hits)
        if len(hits) > wanted:
            hits = hits[np.argpartition(-scores[hits], wanted - 1)[:wanted]]
        best += [(float(scores[d]), int(d) + offset) for d in hits]
    best.sort(key=lambda pair: (-pair[0], pair[1]))
    return best[:wanted], matched
