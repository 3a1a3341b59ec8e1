"""PDFs made for the tests (reportlab; no one's papers are copied into the repository):
articles of several pages, and the broken and hostile files a PDF reader meets."""

from __future__ import annotations

import zlib
from pathlib import Path
from textwrap import wrap

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def article(path: Path, title: str, pages: list[str], doi: str = "", authors: str = "",
            info_title: str | None = None, encrypt: str | None = None) -> Path:
    """A paper: its title large at the top of page 1, then a DOI line, then each page's
    text in 10-point lines. ``info_title``: what the PDF's Info dictionary says (None:
    nothing); ``encrypt``: a user password."""
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt, invariant=1)
    if info_title is not None:
        pdf.setTitle(info_title)
        pdf.setAuthor(authors)
    width, height = A4
    for number, text in enumerate(pages, start=1):
        y = height - 72
        if number == 1:
            pdf.setFont("Helvetica-Bold", 17)
            for line in wrap(title, 55):
                pdf.drawString(72, y, line)
                y -= 22
            pdf.setFont("Helvetica", 11)
            for line in [authors, f"doi:{doi}" if doi else ""]:
                if line:
                    pdf.drawString(72, y, line)
                    y -= 16
            y -= 10
        pdf.setFont("Helvetica", 10)
        for line in wrap(text, 95):
            pdf.drawString(72, y, line)
            y -= 13
            if y < 60:
                break
        pdf.drawString(width / 2, 30, str(number))
        pdf.showPage()
    pdf.save()
    return path


def scanned(path: Path) -> Path:
    """A page that is only an image (a scan without a text layer)."""
    from reportlab.lib.utils import ImageReader
    from PIL import Image, ImageDraw

    image = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(image).text((20, 80), "Scanned page: held-out claims", fill=0)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(ImageReader(image), 72, 500, width=450, height=150)
    pdf.showPage()
    pdf.save()
    return path


def _pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (1 0 obj is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(content: bytes, compress: bool = False) -> bytes:
    data = zlib.compress(content) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    return b"<< /Length %d%s >>\nstream\n" % (len(data), flate) + data + b"\nendstream"


def custom_encoding(path: Path) -> Path:
    """Text in a font whose encoding maps codes to made-up glyph names, without a
    ToUnicode map: what a reader extracts is not words."""
    differences = b" ".join(b"/g%d" % code for code in range(33, 127))
    content = b"BT /F1 12 Tf 72 700 Td (" + bytes(range(40, 90)).replace(b"(", b"").replace(b")", b"").replace(
        b"\\", b"") * 8 + b") Tj ET"
    path.write_bytes(_pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /XYZGlyphs /FirstChar 33 /LastChar 126 "
        b"/Encoding << /Type /Encoding /Differences [33 " + differences + b"] >> >>",
    ]))
    return path


def bomb(path: Path, megabytes: int = 2048) -> Path:
    """Deeply nested arrays in the page's resources and a content stream that inflates
    from a few megabytes to ``megabytes`` of text-showing operators."""
    nested = b"[" * 50_000 + b"]" * 50_000
    chunk = b"BT /F1 1 Tf 0 0 Td (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) Tj ET\n" * 16384
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(chunk) for _ in range(megabytes * 2**20 // len(chunk)))
    data += compressor.flush()
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    path.write_bytes(_pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /Deep " + nested + b" >> >>",
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    return path


def book(path: Path, pages: int) -> Path:
    """A long document: one line of text a page."""
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 10)
        pdf.drawString(72, 700, f"Page {number} of the long report on tidal estuaries and sediment transport.")
        pdf.showPage()
    pdf.save()
    return path
