"""PDFs: the text of each page, and a paper for a PDF the index has no record of.

Text comes from pdfium (pypdfium2: BSD/Apache, no AGPL code), page by page, so that a
hit can say on which page the words are. A PDF is untrusted input: ``page_texts`` runs in
a worker process with a memory limit and under a time limit (extract.py), reads at most
MAX_PAGES pages, and says why when it gives no text (encrypted, scanned without a text
layer, a custom font encoding, not a PDF at all).

Zotero keeps its own extraction beside an attachment (``.zotero-ft-cache``), but without
page breaks; it is used where the PDF itself gives much less text (with_zotero_cache).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..paper import ARXIV_NEW, Paper, identifier_in

MAX_PAGES = 1000          # pages read from one PDF: a 2,000-page PDF is indexed up to here, and says so
MAX_PAGE_CHARS = 100_000  # of one page's text (a page of a normal paper has 3,000-6,000)
TITLE_CHARS = 300
XMP_BYTES = 4_000_000     # of a PDF searched for its XMP packet's DOI
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)
_ARXIV = re.compile(rf"\barXiv:\s*({ARXIV_NEW}|[a-z-]+(?:\.[A-Z]{{2}})?/\d{{7}})(?:v\d+)?", re.I)
_XMP_DOI = re.compile(rb"<(?:prism:doi|pdfx:doi|dc:identifier)>\s*(?:doi:)?(10\.\d{4,9}/[^<\s]+)\s*<", re.I)
# Titles that PDF producers write for a file, not for a paper.
_NOT_A_TITLE = re.compile(r"^(?:microsoft word|untitled|document\d*|doi:|[\w -]*\.(?:docx?|tex|dvi|pdf|indd)$)|^\S+$",
                          re.I)


@dataclass
class PdfText:
    """The text of a PDF's pages (a page's text may be empty), or why there is none."""

    pages: list[str] = field(default_factory=list)
    problem: str | None = None     # why no text could be read; the PDF is still a paper
    total_pages: int = 0           # of the PDF, when more than were read
    paged: bool = True             # False: one text for the whole PDF (Zotero's cache)

    @property
    def readable(self) -> bool:
        return self.problem is None and any(page.strip() for page in self.pages)


def is_pdf(path: Path) -> bool:
    """Whether the file starts as a PDF does (readers accept the header within the first KB)."""
    try:
        with open(path, "rb") as handle:
            return b"%PDF-" in handle.read(1024)
    except OSError:
        return False


def page_texts(path: str | Path) -> PdfText:
    """Each page's text, ligatures and compatibility forms folded (NFKC) and white space
    collapsed. Runs in a worker (extract.py): pdfium may take long or much memory on a
    hostile file."""
    import pypdfium2 as pdfium

    path = Path(path)
    if not is_pdf(path):
        return PdfText(problem="not a PDF (its first bytes are not a PDF header)")
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        reason = str(error)
        if "password" in reason.lower():
            return PdfText(problem="encrypted: it opens only with a password")
        return PdfText(problem=f"cannot be read ({reason})")
    try:
        total = len(document)
        pages = []
        for number in range(min(total, MAX_PAGES)):
            page = document[number]
            textpage = page.get_textpage()
            pages.append(_clean(textpage.get_text_range()[:MAX_PAGE_CHARS]))
            textpage.close()
            page.close()
    finally:
        document.close()
    text = PdfText(pages=pages, total_pages=total)
    if not any(pages):
        text.problem = "no text: a scan without a text layer (run OCR on it, for example ocrmypdf)" if total else \
            "no pages"
    elif not _reads_as_text(" ".join(pages)):
        text.problem = "its text cannot be read (a font without a Unicode mapping)"
        text.pages = []
    return text


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _reads_as_text(text: str) -> bool:
    """Whether extracted text is words, not the glyph codes of a font with a custom
    encoding: mostly letters, digits and punctuation, with spaces between words."""
    sample = text[:20_000]
    readable = sum(ch.isalnum() or ch in " .,;:()-'\"" for ch in sample)
    return readable >= 0.8 * len(sample) and sample.count(" ") >= len(sample) / 25


def with_zotero_cache(pdf: Path, text: PdfText) -> PdfText:
    """The PDF's own text, page by page, unless Zotero's extraction beside it (its storage
    folder's ``.zotero-ft-cache``) holds much more: a scan Zotero had OCR'd, a PDF only
    Zotero could open, a file replaced by a stub. Zotero's text has no page breaks, so
    it is one text for the whole PDF."""
    cache = pdf.parent / ".zotero-ft-cache"
    try:
        cached = _clean(cache.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return text
    own = sum(len(page) for page in text.pages) if text.readable else 0
    return PdfText(pages=[cached], paged=False) if len(cached) > 2 * own else text


@dataclass
class PdfFacts:
    """What a PDF says about itself, read without the network."""

    doi: str = ""
    arxiv_id: str = ""
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    guessed_title: str = ""        # the largest text near the top of the first page


def facts(path: str | Path) -> PdfFacts:
    """DOI and arXiv id (the first pages' text, the XMP packet, the file name), the Info
    dictionary's title and authors when they look like a paper's, and the first page's
    largest line. Runs in a worker, as page_texts does."""
    import pypdfium2 as pdfium

    path = Path(path)
    found = PdfFacts()
    head = b""
    if is_pdf(path):
        with open(path, "rb") as handle:
            head = handle.read(XMP_BYTES)
    xmp = _XMP_DOI.search(head)
    if xmp:
        found.doi = xmp.group(1).decode("latin-1").rstrip(".")
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return _from_name(found, path)
    try:
        info = document.get_metadata_dict(skip_empty=True)
        title = _clean(info.get("Title", ""))
        if title and not _NOT_A_TITLE.search(title) and len(title.split()) >= 3:
            found.title = title
            found.authors = [a.strip() for a in re.split(r";|,| and ", info.get("Author", "")) if a.strip()]
        year = re.match(r"D:(\d{4})", info.get("CreationDate", ""))
        found.year = int(year.group(1)) if year else None
        first_pages = []
        for number in range(min(2, len(document))):
            page = document[number]
            textpage = page.get_textpage()
            first_pages.append(_clean(textpage.get_text_range()[:MAX_PAGE_CHARS]))
            if number == 0:
                found.guessed_title = _largest_line(page, textpage)
            textpage.close()
            page.close()
    finally:
        document.close()
    text = " ".join(first_pages)
    if not found.doi:
        doi = _DOI.search(text)
        found.doi = doi.group(1).rstrip(".,;)") if doi else ""
    arxiv = _ARXIV.search(text)
    found.arxiv_id = arxiv.group(1) if arxiv else ""
    return _from_name(found, path)


def _from_name(found: PdfFacts, path: Path) -> PdfFacts:
    """An arXiv id or DOI in the file name ("2403.00071v2.pdf", "10.1145_3519935.pdf")."""
    if not found.arxiv_id and not found.doi:
        named = identifier_in(path.stem) or identifier_in(path.stem.replace("_", "/", 1))
        if named and named.startswith("10."):
            found.doi = named
        elif named:
            found.arxiv_id = named
    return found


def _largest_line(page, textpage) -> str:
    """The characters in the largest font in the top half of the page, in reading order:
    how a title looks on a paper's first page."""
    import pypdfium2.raw as raw

    height = page.get_height()
    sizes: dict[float, list[str]] = {}
    last_top: dict[float, float] = {}
    for index in range(min(textpage.count_chars(), 4000)):
        box = textpage.get_charbox(index)
        if box[3] < height / 2:
            continue
        size = round(raw.FPDFText_GetFontSize(textpage, index), 1)
        if size in last_top and abs(last_top[size] - box[3]) > size / 2:  # the title goes on on the next line
            sizes[size].append(" ")
        last_top[size] = box[3]
        sizes.setdefault(size, []).append(textpage.get_text_range(index, 1))
    for size in sorted(sizes, reverse=True):
        line = _clean("".join(sizes[size]))
        if len(line) >= 8 and len(line.split()) >= 2:
            return line[:TITLE_CHARS]
    return ""


def paper_for(path: Path, found: PdfFacts, sha256: str, origin: str) -> Paper:
    """A paper for a PDF: an id from its DOI or arXiv id (the record of the same paper the
    index holds is then the one kept), else from its content. Metadata not found in the
    PDF's own description is marked guessed (``extra["guessed"]``)."""
    title = found.title or found.guessed_title or path.stem.replace("_", " ")
    guessed = "" if found.title else ("title from the first page" if found.guessed_title else
                                      "title from the file name")
    paper = Paper(id="" if found.doi or found.arxiv_id else f"pdf-{sha256[:16]}", title=title, authors=found.authors, year=found.year if found.title else None,
                  doi=found.doi, arxiv_id=found.arxiv_id, source=origin)
    paper.extra["pdf"] = str(path)
    if guessed:
        paper.extra["guessed"] = guessed
    return paper
