"""Meaning beside the word index: what PaperIndex asks of the vectors and the model.

Used where words fall short and time allows: a sentence's word matches re-ranked by
meaning, related papers by nearest vectors. Short queries and as-you-type searches stay
with words (their speed is the product's feel), unless meaning is forced. Without the
``[semantic]`` extra, or before any paper is embedded, everything answers by words and
nothing heavy is imported.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .embedding import background_wanted, embed_index, embedding_now, start_background
from .vectors import IndexVectors

MEANING_VARIABLE = "JUPYTER_PAPERS_MEANING"
MODES = ("auto", "off", "always")  # sentences and related papers / never / every query
REMEMBERED_QUERIES = 256  # query vectors kept per process (a claim re-run costs no encoding)


def setting() -> str:
    """The process's default use of meaning (``JUPYTER_PAPERS_MEANING``): auto, off or always."""
    mode = os.environ.get(MEANING_VARIABLE, "auto").strip().lower()
    return mode if mode in MODES else "auto"


def wanted(asked: bool | None, sentence: bool) -> bool:
    """Whether a search uses meaning: as asked, else as the setting says for its kind."""
    if asked is not None:
        return asked
    mode = setting()
    return mode == "always" or mode == "auto" and sentence


class Meaning:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.background = background_wanted()  # rebuilds turn it off for the folder they build
        self._queries: OrderedDict = OrderedDict()
        self._worker = None  # the background embedder this process started

    @staticmethod
    def _model_id() -> str | None:
        """The id of the model in use, or None when the extra or a model is missing."""
        from ...meaning.model import ModelUnavailable, find_model, installed

        if not installed():
            return None
        try:
            return find_model().id
        except ModelUnavailable:
            return None

    def vectors(self, searcher, memo: dict) -> IndexVectors | None:
        """The snapshot's vectors (as far as they are done), or None without a model."""
        if "vectors" not in memo:
            model = self._model_id()
            memo["vectors"] = IndexVectors(self.path, searcher, model) if model else None
        return memo["vectors"]

    def query_vector(self, text: str) -> np.ndarray:
        from ...meaning.model import encoder

        vector = self._queries.get(text)
        if vector is None:
            vector = self._queries[text] = encoder().encode([text])[0]
            if len(self._queries) > REMEMBERED_QUERIES:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(text)
        return vector

    def reranked(self, searcher, memo: dict, text: str, ranked: list[tuple[float, int]]):
        """The word ranking's pairs (score, docnum) in the order of the mixed score, and
        how much of the index meaning covered ({"embedded", "papers"}); the ranking as it
        was and None while no paper has a vector."""
        from ...meaning.fusion import mixed

        vectors = self.vectors(searcher, memo)
        if vectors is None or not ranked:
            return ranked, None
        vectors = vectors.now()
        embedded, papers = vectors.progress()
        if not embedded:
            return ranked, None
        docnums = [docnum for _, docnum in ranked]
        found, have = vectors.of(docnums)
        if have.any():
            scores = mixed(np.array([score for score, _ in ranked]), found @ self.query_vector(text), have)
            ranked = [(float(scores[i]), docnums[i]) for i in np.argsort(-scores, kind="stable")]
        return ranked, {"embedded": embedded, "papers": papers}

    def neighbours(self, searcher, memo: dict, docnum: int, wanted: int):
        """The (score, docnum) pairs nearest this paper in meaning (itself left out), and
        how much of the index meaning covered; none and None if it has no vector or no
        neighbour."""
        vectors = self.vectors(searcher, memo)
        if vectors is None:
            return [], None
        vectors = vectors.now()
        found, have = vectors.of([docnum])
        if not have[0]:
            return [], None
        near = [pair for pair in vectors.nearest(found[0], wanted + 1) if pair[1] != docnum][:wanted]
        return near, dict(zip(("embedded", "papers"), vectors.progress())) if near else None

    def status(self, searcher, memo: dict) -> dict:
        """What a front end shows: {"state", "embedded", "papers", "message"}; state is
        "unavailable" (no extra or model), "off", "complete", "embedding" or "partial"."""
        from ...meaning.model import INSTALL_HINT, ModelUnavailable, find_model, installed

        papers = searcher.doc_count()
        if not installed():
            return {"state": "unavailable", "embedded": 0, "papers": papers,
                    "message": f"search by meaning needs the extra: {INSTALL_HINT}"}
        try:
            find_model()
        except ModelUnavailable as error:
            return {"state": "unavailable", "embedded": 0, "papers": papers, "message": str(error)}
        vectors = self.vectors(searcher, memo)
        embedded = vectors.now().progress()[0] if vectors is not None else 0
        if setting() == "off":
            state = "off"
        elif embedded >= papers:
            state = "complete"
        else:
            working = self._worker is not None and self._worker.poll() is None
            state = "embedding" if working or embedding_now(self.path) else "partial"
        return {"state": state, "embedded": embedded, "papers": papers, "message": ""}

    def embed(self, progress: bool = False) -> int:
        """Embed what is missing now, in this process; returns how many papers were encoded."""
        from ...meaning.model import encoder, find_model

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(desc="meaning", unit=" papers", mininterval=0.5)

        def report(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            return embed_index(self.path, find_model().id, encoder, report if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()

    def embed_later(self, asked: bool = False) -> bool:
        """Start the background embedder if meaning is wanted (``asked``: by a person, not
        by an import) and possible."""
        if not (self.background or asked) or setting() == "off" or self._model_id() is None:
            return False
        if self._worker is not None and self._worker.poll() is None:
            return True  # the one started before looks again for work before it ends
        self._worker = start_background(self.path)
        return True
