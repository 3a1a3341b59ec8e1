"""Corpora and seeded query sets for the benchmarks.

Queries are drawn from the corpus itself (titles of randomly chosen papers), so every
kind of query has papers to find; the seed makes each run ask the same questions.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import jupyter_papers as jp
from jupyter_papers.paper import Paper

# The team's data folder lies beside the repository (as on CI); JUPYTER_PAPERS_DATA moves it.
SHARED = Path(os.environ.get("JUPYTER_PAPERS_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
MLANTHOLOGY = SHARED / "mlanthology.jsonl.gz"
SCIFACT = SHARED / "scifact"
# What the repository ships (tests/data/bench): the smoke run needs nothing outside the repository.
SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "bench"
STOP = set("a an the of for in on and to with from by at as is are via using towards toward its their our we".split())
KINDS = ("one_word", "two_three_words", "phrase", "field", "year_range", "typo", "as_you_type")
# What people type when they half-remember a paper (issue 15), each with the paper it is for
SENTENCE = 20  # words in each sentence of a synthetic abstract
DRAWS_PER_QUERY = 100  # papers drawn per known-item query wanted, at most
KNOWN_ITEM_KINDS = ("shuffled_title_words", "surname_topic", "rare_words", "typo_in_words", "sentence")


def use_sample() -> None:
    """Read the samples the repository ships (laid out as the team's data folder) instead
    of the full corpora, here and in the processes the benchmark starts."""
    global SHARED, MLANTHOLOGY, SCIFACT
    os.environ["JUPYTER_PAPERS_DATA"] = str(SAMPLE)
    SHARED = SAMPLE
    MLANTHOLOGY, SCIFACT = SAMPLE / "mlanthology.jsonl.gz", SAMPLE / "scifact"


def mlanthology(limit: int | None) -> list[Paper]:
    """The first ``limit`` papers of the real corpus (all of them for None)."""
    return list(itertools.islice(jp.read_papers(MLANTHOLOGY), limit))


def synthetic(count: int, seed: int = 7, vocabulary_from: list[Paper] | None = None) -> Iterator[Paper]:
    """Papers whose words follow a Zipf law over a real vocabulary: the growth curve
    without needing a million real abstracts."""
    rng = random.Random(seed)
    words: dict[str, int] = {}
    for paper in vocabulary_from or mlanthology(20_000):
        for word in re.findall(r"[a-z]{3,}", (paper.title + " " + paper.abstract).lower()):
            words[word] = words.get(word, 0) + 1
    vocabulary = sorted(words, key=words.get, reverse=True)[:30_000]
    # cumulative weights worked out once: given plain weights, choices() sums all 30,000 of
    # them on every call (2 ms a paper: the generator, not the import, set the pace at 1M)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocabulary))))
    surnames = [w.capitalize() for w in vocabulary[500:2500]]
    for n in range(count):
        title = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(5, 12))).capitalize()
        words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(80, 180))
        # sentences of 20 words (a period is no token: the index holds the same terms), so
        # the known-item "sentence" kind has sentences to ask with
        abstract = ". ".join(" ".join(words[at:at + SENTENCE]) for at in range(0, len(words), SENTENCE)) + "."
        authors = [f"{rng.choice(surnames)} {rng.choice(surnames)}" for _ in range(rng.randint(1, 6))]
        yield Paper(id=f"synthetic-{n}", title=title, abstract=abstract, authors=authors,
                    year=rng.randint(1990, 2025), venue=rng.choice(["NeurIPS", "ICML", "ICLR", "CVPR", "JMLR"]))


def title_words(paper: Paper) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", paper.title) if w.lower() not in STOP]


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("swap", "drop", "replace"))
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if edit == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + rng.choice("aeiourstn") + word[i + 1:]


def queries(papers: list[Paper], per_kind: int = 40, seed: int = 11) -> dict[str, list[str]]:
    """The fixed query set: ``per_kind`` queries of each kind (as-you-type: every prefix of
    ``per_kind // 4`` real queries, as the panel sends them)."""
    rng = random.Random(seed)
    usable = [p for p in papers if len(title_words(p)) >= 3]
    sample = [rng.choice(usable) for _ in range(per_kind * 3)]
    kinds: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for paper in sample:
        words = title_words(paper)
        start = rng.randrange(0, len(words) - 2)
        kinds["one_word"].append(words[start])
        kinds["two_three_words"].append(" ".join(words[start:start + rng.choice((2, 3))]))
        kinds["phrase"].append(f'"{words[start]} {words[start + 1]}"')
        kinds["field"].append(f"title:{words[start + 1]}")
        if paper.year:
            kinds["year_range"].append(f"{words[start]} year:{paper.year - 2}..{paper.year}")
        long_words = [w for w in words if len(w) >= 6]
        if long_words:
            kinds["typo"].append(" ".join([_typo(rng.choice(long_words), rng), *words[start:start + 1]]))
    for kind in kinds:
        kinds[kind] = kinds[kind][:per_kind]
    typing = []
    for text in kinds["two_three_words"][: max(1, per_kind // 4)]:
        typing += [text[:end] for end in range(2, len(text) + 1) if not text[:end].endswith(" ")]
    kinds["as_you_type"] = typing
    return kinds


def known_items(papers: list[Paper], per_kind: int = 40, seed: int = 15) -> dict[str, list[tuple[str, str]]]:
    """(query, id of the paper it is for) by kind: three title words in shuffled order, a
    first author's surname and two title words, the two rarest words of the abstract, a
    typo in one of three title words, a sentence of the abstract (10 to 40 words) as a
    writer's claim, and a hyphenated title word written otherwise. Seeded: every run asks the same."""
    rng = random.Random(seed)
    frequency: dict[str, int] = {}
    for paper in papers:
        for word in set(re.findall(r"[a-z]{4,}", paper.abstract.lower())):
            frequency[word] = frequency.get(word, 0) + 1
    usable = [p for p in papers if len(title_words(p)) >= 3 and len(p.abstract) > 200]
    kinds: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KNOWN_ITEM_KINDS}
    for _ in range(per_kind * DRAWS_PER_QUERY):  # a corpus may lack a kind (no sentences): fewer of it
        if min(len(found) for found in kinds.values()) >= per_kind:
            break
        paper = rng.choice(usable)
        words = title_words(paper)
        three = rng.sample(words, 3)
        kinds["shuffled_title_words"].append((" ".join(three), paper.id))
        if paper.authors and paper.authors[0].split():
            surname = paper.authors[0].split()[-1]
            kinds["surname_topic"].append((" ".join([surname, *rng.sample(words, 2)]), paper.id))
        rare = sorted(set(re.findall(r"[a-z]{4,}", paper.abstract.lower())), key=lambda w: (frequency[w], w))[:2]
        if len(rare) == 2:
            kinds["rare_words"].append((" ".join(rare), paper.id))
        long_words = [w for w in three if len(w) >= 6]
        if long_words:
            typo = _typo(long_words[0], rng)
            kinds["typo_in_words"].append((" ".join(typo if w == long_words[0] else w for w in three), paper.id))
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", paper.abstract) if 10 <= len(s.split()) <= 40]
        if sentences:
            kinds["sentence"].append((rng.choice(sentences), paper.id))
    kinds["respelt_compound"] = _respelt_compounds(usable, per_kind, random.Random(seed + 1))
    return {kind: found[:per_kind] for kind, found in kinds.items() if found}


_COMPOUND = re.compile(r"[A-Za-z]{2,}-[A-Za-z]{3,}")


def _respelt_compounds(papers: list[Paper], per_kind: int, rng: random.Random) -> list[tuple[str, str]]:
    """A title's hyphenated word written joined or spaced (in turn: "pretraining", "pre
    training" for "Pre-training") and two more of its words: issue 30's "bert pretraining".
    Drawn with a generator of its own, so the other kinds stay as they were."""
    with_compound = [p for p in papers if any(_COMPOUND.fullmatch(w) for w in title_words(p))]
    found = []
    for paper in rng.sample(with_compound, min(per_kind, len(with_compound))):
        words = title_words(paper)
        compound = next(w for w in words if _COMPOUND.fullmatch(w))
        others = [w for w in words if w != compound]
        respelt = compound.replace("-", " " if len(found) % 2 else "")
        found.append((" ".join([respelt, *rng.sample(others, min(2, len(others)))]), paper.id))
    return found
