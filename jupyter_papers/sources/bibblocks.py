"""A .bib file cut into its entries, so that a sync parses only the entries that changed.

Parsing is what a sync of a large .bib costs (bibtexparser reads about 2,000 entries a
second): when one entry of 10,000 changed, the other 9,999 need not be read again. Each
entry's text is hashed; the text given to the parser keeps every line of the file in
place (so reported line numbers stay right) but blanks the entries whose hash was seen at
the last sync, while ``@string`` and ``@preamble`` blocks stay for the macros they define.
Where one entry can change another's reading (``crossref``, a key used twice, a changed
``@string``), the whole file is read as before.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s]*)", re.M)
_SHARED = ("string", "preamble", "comment")


@dataclass
class Block:
    kind: str         # the entry type, lower case (article, string, ...)
    key: str          # lower case
    first: int        # first line, counting from 1
    text: str
    digest: str


def blocks_of(text: str) -> list[Block]:
    """Every block that starts with ``@`` at the start of a line, up to the next one."""
    starts = list(_START.finditer(text))
    blocks = []
    first = text.count("\n", 0, starts[0].start()) + 1 if starts else 1
    for number, match in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
        body = text[match.start():end]
        blocks.append(Block(match.group(1).lower(), match.group(2).lower(), first, body,
                            hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()))
        first += body.count("\n")
    return blocks


def block_at(blocks: list[Block], line: int | None) -> Block | None:
    """The block a reported line falls in."""
    if not line:
        return None
    at = bisect.bisect_right([b.first for b in blocks], line) - 1
    return blocks[at] if at >= 0 else None


def needs_whole_file(blocks: list[Block], shared_before: str | None) -> bool:
    """Whether an entry may read differently because of another block."""
    entries = [b for b in blocks if b.kind not in _SHARED]
    keys = [b.key for b in entries]
    return (len(set(keys)) != len(keys) or any(re.search(r"(?im)^\s*crossref\s*=", b.text) for b in entries)
            or shared_before != shared_digest(blocks))


def shared_digest(blocks: list[Block]) -> str:
    """One hash of the blocks every entry may depend on (@string, @preamble)."""
    return hashlib.sha1("".join(b.digest for b in blocks if b.kind in _SHARED).encode()).hexdigest()


def with_only(text: str, blocks: list[Block], keep: set[str]) -> str:
    """The file's text with every entry not in ``keep`` (by digest) blanked, lines kept."""
    out, position = [], 0
    for block in blocks:
        start = text.index(block.text, position)
        out.append(text[position:start])
        shared = block.kind in _SHARED
        out.append(block.text if shared or block.digest in keep else "\n" * block.text.count("\n"))
        position = start + len(block.text)
    out.append(text[position:])
    return "".join(out)
