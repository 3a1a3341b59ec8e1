"""Putting word matches and meaning together.

Chosen on SciFact's train split only (benchmarks/meaning.py): the word search's best 100
re-ranked by a mix of the two scores, each z-scored over those 100 (nDCG@10 0.735; words
alone 0.706, meaning alone 0.660, reciprocal rank fusion 0.726, the best 50 or 200 within
0.004). Adding the nearest papers by meaning the words missed gained nothing (0.735-0.737),
so a sentence's results stay explained by its highlighted words.
"""

from __future__ import annotations

import numpy as np

RERANKED = 100  # the word search's best papers that meaning re-orders
LEXICAL_WEIGHT = 0.3  # the words' share of the mix (SciFact train: 0.2 0.728, 0.3 0.735, 0.4 0.732)
FUSION_K = 60  # reciprocal rank fusion's constant, for related papers (Cormack et al. 2009)


def _z(scores: np.ndarray) -> np.ndarray:
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else np.zeros_like(scores)


def mixed(lexical: np.ndarray, similarity: np.ndarray, have: np.ndarray,
          lexical_weight: float = LEXICAL_WEIGHT) -> np.ndarray:
    """One score per candidate. A paper not embedded yet counts as of average meaning, so
    it keeps its place among the words' ranking while the embedding catches up."""
    meaning = np.zeros_like(lexical, dtype=np.float64)
    if have.any():
        meaning[have] = _z(similarity[have].astype(np.float64))
    return lexical_weight * _z(lexical.astype(np.float64)) + (1 - lexical_weight) * meaning


def reciprocal_rank(*rankings: list[str], k: int = FUSION_K) -> list[str]:
    """Ids ordered by their summed reciprocal ranks in the given lists."""
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            score[item] = score.get(item, 0.0) + 1 / (k + rank + 1)
    return sorted(score, key=lambda item: -score[item])
