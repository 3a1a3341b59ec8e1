"""Every query behaviour the search box promises, on the bundled demo corpus."""

import bisect

import pytest

import jupyter_papers as jp


def titles(results):
    return [hit.paper.title for hit in results]


def test_rotary_position_lists_resonance_rope_first_with_highlights(demo_index):
    results = demo_index.search("rotary position")
    assert results[0].paper.title.startswith("Resonance RoPE")
    assert "<mark>Rotary</mark> <mark>Position</mark>" in results[0].highlights["abstract"]


def test_typo_finds_schrodinger_bridge_and_suggests(demo_index):
    results = demo_index.search("schrodinger brige")
    assert results[0].paper.title == "Reflected Schrödinger Bridge for Constrained Generative Modeling"
    assert results.suggestion == "schrodinger bridge"
    assert "<mark>Schrödinger</mark> <mark>Bridge</mark>" in results[0].highlights["title"]


def test_two_letter_typo_in_distinctive_word(demo_index):
    results = demo_index.search("resonanse rope")
    assert results[0].paper.id == "2403.00071" and results.suggestion == "resonance rope"
    results = demo_index.search("resonnance rpoe ")
    assert results[0].paper.id == "2403.00071"


@pytest.mark.parametrize("query,expected", [
    ("schrodinger", "Schrödinger"), ("ito", "Itô"), ("GLM 130B", "GLM-130B"), ("GLM-130B", "GLM-130B"),
    ("glm130b", None), ("PFGM++", "PFGM++"), ("phi-3", "Phi-3"),
])
def test_folding_and_punctuation(demo_index, query, expected):
    results = demo_index.search(query + " ")
    if expected is None:
        return
    assert expected in results[0].paper.title


def test_all_words_preferred_but_not_required(demo_index):
    both = demo_index.search("diffusion language ")
    assert all("diffusion" in (h.paper.title + h.paper.abstract).lower() for h in both[:3])
    nonsense = demo_index.search("diffusion qqqqzzzzxx ")
    assert nonsense.total > 0 and "iffusion" in nonsense[0].paper.title + nonsense[0].paper.abstract


def test_phrase_field_and_boolean_queries(demo_index):
    phrase = demo_index.search('"diffusion models"')
    assert phrase.total and all("diffusion model" in (h.paper.title + " " + h.paper.abstract).lower() for h in phrase)
    title_only = demo_index.search("title:diffusion")
    assert title_only.total and all("diffusion" in h.paper.title.lower() for h in title_only)
    negated = demo_index.search("diffusion NOT language")
    assert negated.total and all("language" not in (h.paper.title + h.paper.abstract).lower() for h in negated)
    either = demo_index.search("ALiBi OR PFGM++")
    assert {"Position Interpolation Improves ALiBi Extrapolation"} <= set(titles(either))
    authored = demo_index.search("author:kobyzev")
    assert authored[0].paper.id == "2403.00071"


def test_year_ranges_in_query_and_arguments(demo_index):
    in_query = demo_index.search("diffusion year:2024")
    assert in_query.total and {h.paper.year for h in in_query} == {2024}
    ranged = demo_index.search("diffusion year:2022..2023")
    assert ranged.total and {h.paper.year for h in ranged} <= {2022, 2023}
    by_args = demo_index.search("diffusion", year_from=2023, year_to=2023, facets=True)
    assert by_args.total and {h.paper.year for h in by_args} == {2023}
    assert set(by_args.facets["year"]) == {2023}


def test_last_word_completes_as_prefix(demo_index):
    assert demo_index.search("resonance ro").hits[0].paper.id == "2403.00071"
    typing = demo_index.search("rota")
    assert typing.total and "<mark>Rotary</mark>" in typing[0].highlights["abstract"]
    ended = demo_index.search("rota ")  # a trailing space ends the word: no completion, only spelling
    assert "2403.00071" not in [h.paper.id for h in ended] and ended.suggestion


def test_pasted_ids_find_the_paper_first(demo_index):
    for pasted in ("2403.00071", "arXiv:2403.00071v2", "https://arxiv.org/abs/2403.00071", "https://arxiv.org/pdf/2403.00071v1.pdf"):
        assert demo_index.search(pasted)[0].paper.id == "2403.00071", pasted


def test_empty_query_lists_newest_first(demo_index):
    results = demo_index.search("", limit=20, facets=True)
    years = [h.paper.year for h in results]
    assert results.total == 139 and years == sorted(years, reverse=True)
    assert sum(results.facets["year"].values()) == 139
    assert demo_index.search("", limit=20).facets == {}  # counted only when asked for


@pytest.mark.parametrize("bad", ['title:(', 'AND OR ((', '"unclosed phrase', 'year:[2020 TO', '***', 'NOT', ')(', "title:"])
def test_bad_syntax_never_raises(demo_index, bad):
    results = demo_index.search(bad)
    assert isinstance(results, jp.SearchResults) and results.total >= 0


def test_bad_syntax_is_searched_as_words(demo_index):
    assert demo_index.search('"unclosed resonance')[0].paper.id == "2403.00071"
    assert demo_index.search("(resonance AND")[0].paper.id == "2403.00071"


def test_paging_and_totals(demo_index):
    first = demo_index.search("model", limit=5)
    second = demo_index.search("model", limit=5, offset=5)
    assert first.total == second.total > 10
    assert len(first) == len(second) == 5
    assert not set(h.paper.id for h in first) & set(h.paper.id for h in second)


def test_more_like(demo_index):
    related = demo_index.more_like("2403.00071", limit=5)
    assert len(related) == 5 and "2403.00071" not in [h.paper.id for h in related]
    assert "2310.13017" in [h.paper.id for h in related]  # Position Interpolation (RoPE too)


def test_open_year_ranges_skip_papers_without_a_year_in_every_segment(empty_index):
    empty_index.add([jp.Paper(id="p2019", title="Kernel methods", year=2019),
                     jp.Paper(id="pnone", title="Kernel tricks")])
    empty_index.add([jp.Paper(id="p2021", title="Kernel regression", year=2021)])  # a second segment
    assert {h.paper.id for h in empty_index.search("kernel year:>=2020")} == {"p2021"}
    assert {h.paper.id for h in empty_index.search("kernel year:<=2020")} == {"p2019"}
    empty_index.add([jp.Paper(id="p2022", title="Kernel smoothing", year=2022)])  # years of a new segment
    assert {h.paper.id for h in empty_index.search("kernel", year_from=2020)} == {"p2021", "p2022"}
    assert {h.paper.id for h in empty_index.search("kernel")} == {"p2019", "pnone", "p2021", "p2022"}


def test_words_side_by_side_rank_above_the_same_words_apart(empty_index):
    empty_index.add([jp.Paper(id="apart", title="Models of diffusion"),
                     jp.Paper(id="together", title="Score based diffusion models for generative image synthesis")])
    assert [h.paper.id for h in empty_index.search("diffusion models ")] == ["together", "apart"]


def test_a_query_typed_again_sees_papers_added_since(empty_index):
    empty_index.add([jp.Paper(id="first", title="Graph kernels")])
    assert [h.paper.id for h in empty_index.search("graph kern")] == ["first"]
    assert [h.paper.id for h in empty_index.search("Graph kern")] == ["first"]  # the same plan, remembered
    empty_index.add([jp.Paper(id="second", title="Graph kernels for molecules")])
    assert {h.paper.id for h in empty_index.search("graph kern")} == {"first", "second"}


def test_a_last_word_completes_unless_it_is_common_as_typed(empty_index):
    empty_index.add([jp.Paper(id=f"simple{n}", title=f"Simple baseline number {n}") for n in range(4)]
                    + [jp.Paper(id="simpler", title="Simpler baselines"), jp.Paper(id="graph", title="One graph")]
                    + [jp.Paper(id=f"graphical{n}", title=f"Graphical models {n}") for n in range(5)])
    assert "simpler" not in {h.paper.id for h in empty_index.search("simple", limit=20)}  # taken as typed
    assert "simpler" in {h.paper.id for h in empty_index.search("simp", limit=20)}
    assert {h.paper.id for h in empty_index.search("graph", limit=20)} == {"graph"} | {f"graphical{n}" for n in range(5)}


def test_two_of_three_words_rank_above_one_rare_word(empty_index):
    empty_index.add([jp.Paper(id=f"both{n}", title=f"Alpha beta study {n}") for n in range(8)]
                    + [jp.Paper(id="rare", title="Gamma")] + [jp.Paper(id=f"other{n}", title="Delta") for n in range(30)])
    ranked = [h.paper.id for h in empty_index.search("alpha beta gamma ", limit=10)]
    assert ranked[-1] == "rare" and set(ranked[:-1]) == {f"both{n}" for n in range(8)}


def test_highlights_escape_paper_text(empty_index):
    empty_index.add([jp.Paper(title="<img src=x onerror=alert(1)> attack", abstract="a <script>alert(2)</script> attack")])
    hit = empty_index.search("attack")[0]
    assert "<img" not in hit.highlights["title"] and "&lt;img src=x onerror=alert(1)&gt;" in hit.highlights["title"]
    assert "<script>" not in hit.highlights["abstract"] and "<mark>attack</mark>" in hit.highlights["abstract"]
    assert "<img" not in jp.SearchResults("q", [hit], 1)._repr_html_()


def test_abstract_snippets_show_the_passages_with_the_most_query_words(empty_index):
    filler = " ".join(f"filler{n}" for n in range(120))
    abstract = f"Graphs are studied. {filler} We propose sparse attention for graphs. {filler} The end."
    empty_index.add([jp.Paper(title="A study", abstract=abstract)])
    snippet = empty_index.search("sparse attention graphs")[0].highlights["abstract"]
    assert "<mark>sparse</mark> <mark>attention</mark> for <mark>graphs</mark>" in snippet
    assert snippet.count(" … ") == 1 and "<mark>Graphs</mark> are studied" in snippet  # two passages, in order
    assert "The end" not in snippet and len(snippet.replace("<mark>", "").replace("</mark>", "")) < 700


def test_titles_first_then_abstracts_and_total_counts_abstract_matches_too(demo_index):
    """A page filled from titles alone still counts the papers that have the word in
    their abstract only (Whoosh's path counted the titles and said "5+")."""
    titles = demo_index.search("diffusion", limit=3)
    assert all("diffusion" in h.paper.title.lower() for h in titles)
    everything = demo_index.search("diffusion", limit=100)
    assert titles.total_exact and titles.total == everything.total == len(everything.hits)
    assert sum("diffusion" in h.paper.title.lower() for h in everything) < everything.total
    in_titles = [h for h in everything if "diffusion" in h.paper.title.lower()]
    assert everything.hits[:len(in_titles)] == in_titles  # pages keep titles first, no shuffle
    assert [h.paper.id for h in everything.hits[:3]] == [h.paper.id for h in titles]


def test_latex_in_abstracts_reads_as_text_in_highlights(empty_index):
    """The sidebar and the terminal render no math: "$4\\times$RTX" showed as "4timesRTX"."""
    empty_index.add([jp.Paper(id="tex1", title=r"Fast $O(n \log n)$ sorting",
                              abstract=r"We train on $4\times$RTX 3090 and gain 2.45\% on $D\to\infty$ with It\^oWave.")])
    hit = empty_index.search("sorting").hits[0]
    assert "4×RTX 3090" in hit.highlights["abstract"] and "2.45% on D→∞ with ItôWave" in hit.highlights["abstract"]
    assert "\\" not in hit.highlights["title"] + hit.highlights["abstract"]
    assert hit.paper.abstract.startswith(r"We train on $4\times$"), "the record keeps the LaTeX (for MathJax)"


def test_latex_only_in_math_is_read_without_parsing_the_prose():
    """Most abstracts have LaTeX only in their math: the prose around it is not parsed (half
    the time), and keeps what pylatexenc drops: "&" is not an alignment tab in an abstract."""
    from jupyter_papers.citations.latex import to_plain

    text = r"Over C&W attacks at $4\times$ the speed -- with {BERT} and $\alpha$~=~0.5."
    assert to_plain(text) == "Over C&W attacks at 4× the speed – with BERT and α = 0.5."
    assert to_plain(r"With \emph{{BERT}} at $4\times$") == "With BERT at 4×", "macros in the prose: that sentence is parsed"
    assert to_plain(r"Our R&D costs -- ``less''. We name it \texttt{PriM} (at $4\times$).") == \
        "Our R&D costs – “less”. We name it PriM (at 4×).", "only the sentence with a macro goes to the parser"
    assert to_plain(r"an error of \textcolor{red}{$2.23\%$} on CIFAR") == "an error of 2.23% on CIFAR", "math in an argument"


@pytest.mark.parametrize("options", [{"year_to": 2023}, {"year_from": 2024}, {"year_from": 2021, "year_to": 2021}])
def test_the_newest_first_listing_keeps_to_the_years(demo_index, options):
    """Whoosh's NumericRange on the 16-bit year matched every paper for "up to 2023"."""
    results = demo_index.search("", limit=200, **options)
    years = [hit.paper.year for hit in results]
    assert years and all(options.get("year_from", 0) <= y <= options.get("year_to", 9999) for y in years if y)
    assert years == sorted(years, reverse=True) and results.total == len(years)


def test_a_total_counted_in_titles_only_says_it_is_a_lower_bound(demo_index):
    """Whoosh's path (NOT, phrases) fills a page from titles without counting abstracts."""
    titles = demo_index.search("language NOT zebra", limit=3)
    assert not titles.total_exact and titles.total_label == f"{titles.total}+"
    everything = demo_index.search("language NOT zebra", limit=200)
    assert everything.total_exact and everything.total == len(everything.hits) > titles.total


def test_spelling_neighbours_are_the_words_a_levenshtein_automaton_accepts(demo_index):
    """The words a typo may stand for come from RapidFuzz's distance over the vocabulary;
    Whoosh's Levenshtein automaton (first letter kept, as Whoosh's fuzzy terms do), walked
    over the same vocabulary, accepts the same words."""
    import random

    from whoosh.automata.fsa import find_all_matches
    from whoosh.automata.lev import levenshtein_automaton

    from jupyter_papers.backends.whoosh.query import VOCABULARY_FIELDS, QueryBuilder

    rng = random.Random(5)
    compared = 0
    with demo_index._reading() as searcher:
        builder = QueryBuilder(searcher, searcher.schema, demo_index._parser, demo_index._memo)
        for fieldname in VOCABULARY_FIELDS:
            words = sorted(w.decode() for w in searcher.reader().lexicon(fieldname))

            def first_from(text, words=words):
                at = bisect.bisect_left(words, text)
                return words[at] if at < len(words) else None

            typed = [w for w in rng.sample(words, 150) if len(w) >= 3]
            typed += [w[:2] + w[3:] for w in typed[:60]] + [w[:3] + "x" + w[3:] for w in typed[60:120]] + ["atention"]
            for token in typed:
                for maxdist in (1, 2):
                    expected = list(find_all_matches(levenshtein_automaton(token, maxdist, prefix=1).to_dfa(), first_from))
                    assert sorted(builder._terms_within(fieldname, token, maxdist)) == expected, (token, maxdist)
                    compared += len(expected)
    assert compared > 1000


@pytest.mark.parametrize("query", ["diffusion ", "title:diffusion", "diffusion AND models", "authors:chen"])
def test_words_and_terms_score_as_whoosh_scores_them(demo_index, query):
    """The numpy path (wordsearch.py) reimplements Whoosh's BM25F: each hit's score is the
    one Whoosh's matchers give the same paper."""
    from whoosh import query as wq

    from jupyter_papers.backends.whoosh.query import QueryBuilder
    from jupyter_papers.backends.whoosh.ranking import scores

    results = demo_index.search(query, limit=50, highlights=False)
    assert results.total >= 2 and results.total_exact
    with demo_index._reading() as searcher:
        plan = QueryBuilder(searcher, searcher.schema, demo_index._parser, demo_index._memo).build(query, False)
        docnums = [searcher.document_number(id=hit.paper.id) for hit in results]
        whoosh = scores(searcher, plan.parsed or wq.Or(plan.words), docnums)
    assert [round(hit.score, 3) for hit in results] == [round(whoosh[d], 3) for d in docnums]


@pytest.mark.parametrize("listed", [3, 10_000])  # positions from the arrays file; from Whoosh's blocks
def test_quoted_phrases_find_and_score_what_whoosh_s_phrase_matcher_does(tmp_path, monkeypatch, listed):
    """Quoted phrases go the numpy way too (wordsearch.py, postings.PostingCache.side_by_side):
    the same papers, the same scores, the same totals as Whoosh's SpanNear matchers."""
    from jupyter_papers.backends.whoosh import arrays, wordsearch

    monkeypatch.setattr(arrays, "LISTED_POSTINGS", listed)
    index = jp.open_index(tmp_path / "ix")
    index.add(list(jp.read_papers(jp.bundled_corpus())))
    queries = ['"language models"', '"reinforcement learning" agents', 'title:"diffusion models"',
               '"large language models" AND reasoning', '"in context learning"', '"neural networks"']

    def hits(query):
        index._memo.clear()
        results = index.search(query, limit=30, highlights=False)
        return results.total, [(hit.paper.id, round(hit.score, 3)) for hit in results]

    ours = [hits(query) for query in queries]
    monkeypatch.setattr(wordsearch, "clauses_of", lambda plan: None)
    assert ours == [hits(query) for query in queries]
    assert all(total for total, _ in ours) and sum(total for total, _ in ours) > 60


def test_a_hyphenated_word_ranks_its_words_side_by_side_first(empty_index):
    empty_index.add([jp.Paper(id="apart", title="Fine language tuning of models"),
                     jp.Paper(id="together", title="Fine-tuning of language models")])
    assert [hit.paper.id for hit in empty_index.search("fine-tuning ")] == ["together", "apart"]


COMPOUNDS = [
    jp.Paper(id="bert", title="BERT: Pre-training of deep bidirectional transformers for language understanding"),
    jp.Paper(id="electra", title="ELECTRA: pretraining text encoders as discriminators rather than generators"),
    jp.Paper(id="bart", title="BART: denoising sequence to sequence pre training for natural language generation"),
    jp.Paper(id="attention", title="Self-attention with relative position representations"),
    jp.Paper(id="convex", title="Nonconvex optimization meets low-rank matrix factorization"),
    jp.Paper(id="cotraining", title="Combining labeled and unlabeled data with co-training"),
    *[jp.Paper(id=f"bert-{i}", title=f"BERT for {topic}", abstract=f"We fine-tune BERT on {topic}; training is cheap.")
      for i, topic in enumerate(["question answering", "named entities", "retrieval", "parsing", "summaries",
                                 "dialogue", "translation", "biomedical text", "legal text", "code"])],
]


@pytest.mark.parametrize("query", ["bert pretraining", "bert pre-training", "bert pre training",
                                   "bert pre‐training", "pre-training bert"])
def test_a_compound_is_found_however_it_is_hyphenated(empty_index, query):
    """Issue 30: "bert pretraining" put BERT 8th, "bert pre-training" 1st."""
    empty_index.add(COMPOUNDS)
    assert [hit.paper.id for hit in empty_index.search(query)][:1] == ["bert"]


@pytest.mark.parametrize("query, found", [
    ("pre-training", {"bert", "electra", "bart"}), ("pretraining", {"bert", "electra", "bart"}),
    ("pre training", {"bert", "electra", "bart"}),
    ("selfattention", {"attention"}), ("self attention", {"attention"}), ("self-attention", {"attention"}),
    ("non-convex", {"convex"}), ("non convex", {"convex"}), ("nonconvex", {"convex"}),
    ("cotraining", {"cotraining"}), ("co training", {"cotraining"}),
])
def test_each_spelling_of_a_compound_finds_every_other(empty_index, query, found):
    empty_index.add(COMPOUNDS)
    first = [hit.paper.id for hit in empty_index.search(query, prefix=False)][:len(found)]
    assert set(first) == found


def test_a_compound_found_joined_is_marked_whole(empty_index):
    empty_index.add(COMPOUNDS)
    hit = empty_index.search("bert pretraining")[0]
    assert hit.highlights["title"] == ("<mark>BERT</mark>: <mark>Pre-training</mark> of deep bidirectional "
                                       "transformers for language understanding")


def test_a_quoted_phrase_steps_over_a_hyphenated_word_as_before(empty_index):
    """The joined word shares its first part's position: phrases of the parts still match."""
    empty_index.add(COMPOUNDS)
    assert [hit.paper.id for hit in empty_index.search('"pre-training of deep"')] == ["bert"]
    assert [hit.paper.id for hit in empty_index.search('"bert pre training of"')] == ["bert"]
    assert [hit.paper.id for hit in empty_index.search('"bidirectional transformers for"')] == ["bert"]


def test_two_words_are_not_joined_when_joined_they_are_a_rare_slip(empty_index):
    """"deep learning" is not "deeplearning" because one paper wrote it so."""
    empty_index.add([jp.Paper(id=f"deep-{i}", title=f"Deep learning for task {i}") for i in range(30)]
                    + [jp.Paper(id="slip", title="Deeplearning toolkit")])
    assert "slip" not in [hit.paper.id for hit in empty_index.search("deep learning", prefix=False)][:10]


def test_a_changed_paper_is_found_by_its_new_words_only(empty_index):
    """An update deletes the old document; its postings stay in the segment until a merge."""
    empty_index.add([jp.Paper(id="p1", title="Sparse attention for graphs"), jp.Paper(id="p2", title="Dense graphs")])
    empty_index.add([jp.Paper(id="p1", title="Sparse transformers for text")])
    assert [hit.paper.id for hit in empty_index.search("attention ")] == []
    assert [hit.paper.id for hit in empty_index.search("graphs ")] == ["p2"]
    assert [hit.paper.title for hit in empty_index.search("sparse ")] == ["Sparse transformers for text"]


def test_a_word_of_two_or_three_letters_completes_in_titles_authors_and_keywords(empty_index):
    """Guesses from two letters are looked for where they are cheap and telling; from four
    letters on, abstracts too."""
    empty_index.add([jp.Paper(id="abstract", title="A study", abstract="We learn a representation of graphs."),
                     jp.Paper(id="title", title="Representation learning", abstract="We study graphs.")])
    assert [hit.paper.id for hit in empty_index.search("re")] == ["title"]
    assert [hit.paper.id for hit in empty_index.search("rep")] == ["title"]
    assert [hit.paper.id for hit in empty_index.search("repr")] == ["title", "abstract"]


def test_columns_read_at_once_hold_what_whoosh_reads_a_paper_at_a_time(empty_index):
    """postings.column_array reads Whoosh's numeric columns (years, field lengths) whole;
    papers after the last one with a value (no year here) get the default."""
    import numpy as np
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    from jupyter_papers.backends.whoosh.postings import column_array

    empty_index.add([jp.Paper(id=f"p{n}", title="Kernel " * (n + 1), abstract="words " * n,
                              year=2000 + n if n < 5 else None) for n in range(8)])
    with empty_index._reading() as searcher:
        (reader,) = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        year = reader.column_reader("year", translate=False)
        columns = [year] + [reader._perdoc.column_reader(_lenfield(name), LENGTHS_COLUMN) for name in ("title", "abstract")]
        for column in columns:
            whole = column_array(column, reader.doc_count_all())
            assert len(whole) == 8 and list(whole) == [column[docnum] for docnum in range(8)]
        assert sorted(column_array(year, 8)) == [0, 0, 0, 2000, 2001, 2002, 2003, 2004]
        assert len(np.unique(column_array(columns[1], 8))) > 4  # title lengths differ
