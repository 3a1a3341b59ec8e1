"""The baseline: the same corpus and queries through SQLite FTS5 (stdlib sqlite3, porter
tokenizer, bm25), searched the way our index is (all words first, then any word)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from jupyter_papers.paper import Paper
from jupyter_papers.question import extract_years

WEIGHTS = "3.0, 1.0, 2.0"  # title, abstract, authors: the boosts of our schema


class FTS5Index:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path))
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS meta(rowid INTEGER PRIMARY KEY, id TEXT, year INTEGER);
            CREATE VIRTUAL TABLE IF NOT EXISTS papers USING fts5(
                title, abstract, authors, tokenize='porter unicode61 remove_diacritics 2');
        """)

    def add(self, papers) -> int:
        count = 0
        with self.db:
            for rowid, paper in enumerate(papers, 1):
                self.db.execute("INSERT INTO meta VALUES (?, ?, ?)", (rowid, paper.id, paper.year))
                self.db.execute("INSERT INTO papers(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                                (rowid, paper.title, paper.abstract, ", ".join(paper.authors)))
                count += 1
        return count

    def _run(self, match: str, years, limit: int) -> list[tuple]:
        sql = ("SELECT meta.id, highlight(papers, 0, '<mark>', '</mark>'), "
               "snippet(papers, 1, '<mark>', '</mark>', ' … ', 40) FROM papers JOIN meta ON meta.rowid = papers.rowid "
               "WHERE papers MATCH ?")
        args: list = [match]
        if years[0] is not None:
            sql += " AND meta.year >= ?"
            args.append(years[0])
        if years[1] is not None:
            sql += " AND meta.year <= ?"
            args.append(years[1])
        sql += f" ORDER BY bm25(papers, {WEIGHTS}) LIMIT ?"
        args.append(limit)
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []

    def search(self, query: str, limit: int = 10, prefix: bool = True) -> list[tuple]:
        text, year_from, year_to = extract_years(query, None, None)
        years = (year_from, year_to)
        phrase = re.fullmatch(r'\s*"([^"]+)"\s*', text)
        field = re.fullmatch(r"\s*(title|abstract|authors):(\S+)\s*", text)
        if phrase:
            return self._run('"' + phrase.group(1) + '"', years, limit)
        if field:
            return self._run(f'{field.group(1)} : "{field.group(2)}"', years, limit)
        words = [w for w in re.findall(r"\w+", text)]
        if not words:
            return []
        terms = [f'"{w}"' for w in words]
        if prefix and not text.endswith(" "):
            terms[-1] += "*"
        hits = self._run(" AND ".join(terms), years, limit)
        if len(hits) < limit and len(terms) > 1:
            seen = {h[0] for h in hits}
            hits += [h for h in self._run(" OR ".join(terms), years, limit) if h[0] not in seen][: limit - len(hits)]
        return hits

    def close(self) -> None:
        self.db.close()


def build(papers: list[Paper], path: Path) -> FTS5Index:
    path.unlink(missing_ok=True)
    index = FTS5Index(path)
    index.add(papers)
    return index
