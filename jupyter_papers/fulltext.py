"""Keeping the full text of the index's PDFs in step with its papers.

After papers are added, each one's PDF (``extra["pdf"]``: a Zotero attachment, a .bib
``file`` field, a PDF of a folder source) is looked at: a file whose size and time did
not change costs a ``stat``; a changed one is hashed, and its text taken from the page
index when the same content is indexed already (under any paper), else read in worker
processes (sources/extract.py), or from Zotero's cache beside it where that holds more. A PDF that cannot be
read is reported once, with why, and not read again until it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .backends.whoosh.pages import FileText, PageIndex
from .paper import Paper
from .sources import Problem, sha256_of
from .sources import extract
from .sources.pdf import MAX_PAGES, PdfText, with_zotero_cache

BATCH_FILES = 200   # PDFs whose pages are written in one commit (a commit holds their texts in memory)


def update(pages: PageIndex, papers: Iterable[Paper], procs: int = 2, progress: bool = False) -> list[Problem]:
    """Index the PDFs of these papers that changed; forget the pages of those that lost
    theirs. Returns what could not be read."""
    records = pages.file_records() if pages.exists() else {}
    papers = {paper.id: paper for paper in papers}.values()  # a paper written twice in one add: once
    forget: list[str] = []
    ready: list[FileText] = []
    to_read: dict[str, list[FileText]] = {}  # path -> the papers it is the PDF of
    problems: list[Problem] = []
    for paper in papers:
        pdf = paper.extra.get("pdf", "")
        record = records.get(paper.id)
        if not pdf:
            if record:
                forget.append(paper.id)
            continue
        path = Path(pdf)
        try:
            info = path.stat()
        except OSError:
            continue  # not on this machine (any more): the pages indexed, if any, stay
        stamp = [info.st_size, info.st_mtime_ns]
        if record and record.get("pdf") == pdf and record.get("stamp") == stamp:
            continue
        sha = sha256_of(path)
        if record and record.get("sha") == sha and record.get("pdf") == pdf:
            continue
        known = pages.text_of(sha)
        entry = FileText(paper.id, sha, pdf, stamp=stamp)
        if known is not None:
            ready.append(_with_text(entry, known))
        else:
            to_read.setdefault(str(path), []).append(entry)
    if forget or ready:
        pages.write(ready, forget)
    batch: list[FileText] = []
    for path, result in _read(to_read, procs, progress):
        text = with_zotero_cache(Path(path), result if isinstance(result, PdfText) else PdfText(problem=str(result)))
        batch += [_with_text(entry, text) for entry in to_read[path]]
        if text.problem:
            problems.append(Problem(path, None, f"its text is not searchable: {text.problem}"))
        elif text.total_pages > len(text.pages):
            problems.append(Problem(path, None, f"only its first {MAX_PAGES} of {text.total_pages} pages are "
                                                "searchable"))
        if len(batch) >= BATCH_FILES:
            pages.write(batch)
            batch = []
    if batch:
        pages.write(batch)
    return problems


def _with_text(entry: FileText, text: PdfText | FileText) -> FileText:
    entry.pages, entry.paged, entry.problem, entry.total_pages = text.pages, text.paged, text.problem, text.total_pages
    return entry


def _read(to_read: dict[str, list], procs: int, progress: bool) -> Iterator[tuple[str, object]]:
    if not to_read:
        return
    results = extract.run("text", to_read, procs=procs)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(to_read), desc="reading PDFs", unit=" PDFs", mininterval=0.5)
    yield from results
