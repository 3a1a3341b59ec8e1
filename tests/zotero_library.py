"""Zotero data directories made for tests and benchmarks, on Zotero's own schema.

``tests/data/zotero/schema.sql`` is Zotero's database schema (userdata 121) with its
built-in rows (item types, fields, base-field mappings, creator types), read from a real
zotero.sqlite; this helper adds libraries, items, creators, notes, attachments,
annotations, collections, tags, trashed items, feeds and a Better BibTeX key table through
those tables, so no column name is guessed.
"""

from __future__ import annotations

import random
import sqlite3
import string
from pathlib import Path

SCHEMA = Path(__file__).parent / "data" / "zotero" / "schema.sql"
USER = 1


class ZoteroLibrary:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        (self.folder / "storage").mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "zotero.sqlite"
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA.read_text(encoding="utf-8"))
        self._keys = random.Random(7)
        self._bbt: list[tuple[int, str, int, str]] = []

    def close(self) -> None:
        self.db.commit()
        self.db.close()
        if self._bbt:
            bbt = sqlite3.connect(self.folder / "better-bibtex.sqlite")
            bbt.execute("CREATE TABLE citationkey (itemID NOT NULL, itemKey NOT NULL, libraryID NOT NULL, "
                        "citationKey NOT NULL, pinned CHECK (pinned in (0, 1)) NOT NULL DEFAULT 0)")
            bbt.executemany("INSERT INTO citationkey VALUES (?, ?, ?, ?, 1)", self._bbt)
            bbt.commit()
            bbt.close()

    def _one(self, query: str, name: str) -> int:
        row = self.db.execute(query, (name,)).fetchone()
        if row is None:
            raise KeyError(f"Zotero's schema has no {name!r}")
        return row[0]

    def _key(self) -> str:
        return "".join(self._keys.choice(string.ascii_uppercase + "23456789") for _ in range(8))

    def group(self, name: str) -> int:
        library = self.db.execute("INSERT INTO libraries (type, editable, filesEditable) VALUES ('group', 1, 1)"
                                  ).lastrowid
        self.db.execute("INSERT INTO groups (groupID, libraryID, name, description, version) VALUES (?, ?, ?, '', 1)",
                        (library * 1000, library, name))
        return library

    def feed(self, name: str) -> int:
        library = self.db.execute("INSERT INTO libraries (type, editable, filesEditable) VALUES ('feed', 0, 0)"
                                  ).lastrowid
        self.db.execute("INSERT INTO feeds (libraryID, name, url) VALUES (?, ?, ?)",
                        (library, name, f"https://example.org/{name}"))
        return library

    def collection(self, name: str, parent: int | None = None, library: int = USER) -> int:
        return self.db.execute("INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) "
                               "VALUES (?, ?, ?, ?)", (name, parent, library, self._key())).lastrowid

    def item(self, kind: str, fields: dict[str, str], creators=(), library: int = USER, collections=(), tags=(),
             trashed: bool = False, citation_key: str | None = None) -> tuple[int, str]:
        """An item; ``creators``: (creator type, first name, last name) or (creator type, name)
        for a single-field name. Returns its id and key."""
        key = self._key()
        item = self.db.execute("INSERT INTO items (itemTypeID, libraryID, key) VALUES (?, ?, ?)",
                               (self._one("SELECT itemTypeID FROM itemTypesCombined WHERE typeName = ?", kind), library, key)).lastrowid
        for name, value in fields.items():
            field = self._one("SELECT fieldID FROM fieldsCombined WHERE fieldName = ?", name)
            self.db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
            value_id = self.db.execute("SELECT valueID FROM itemDataValues WHERE value = ?", (value,)).fetchone()[0]
            self.db.execute("INSERT INTO itemData (itemID, fieldID, valueID) VALUES (?, ?, ?)", (item, field, value_id))
        for order, creator in enumerate(creators):
            role, names = creator[0], creator[1:]
            first, last, mode = ("", names[0], 1) if len(names) == 1 else (names[0], names[1], 0)
            self.db.execute("INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                            (first, last, mode))
            creator_id = self.db.execute("SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ? AND "
                                         "fieldMode = ?", (first, last, mode)).fetchone()[0]
            self.db.execute("INSERT INTO itemCreators (itemID, creatorID, creatorTypeID, orderIndex) VALUES (?, ?, ?, ?)",
                            (item, creator_id, self._one("SELECT creatorTypeID FROM creatorTypes WHERE creatorType = ?", role), order))
        for collection in collections:
            self.db.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)", (collection, item))
        for tag in tags:
            self.db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            tag_id = self.db.execute("SELECT tagID FROM tags WHERE name = ?", (tag,)).fetchone()[0]
            self.db.execute("INSERT INTO itemTags (itemID, tagID, type) VALUES (?, ?, 0)", (item, tag_id))
        if trashed:
            self.db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item,))
        if citation_key:
            self._bbt.append((item, key, library, citation_key))
        return item, key

    def note(self, parent: int | None, text: str) -> int:
        item, _ = self.item("note", {})
        self.db.execute("INSERT INTO itemNotes (itemID, parentItemID, note, title) VALUES (?, ?, ?, ?)",
                        (item, parent, f"<p>{text}</p>", text[:20]))
        return item

    def stored_pdf(self, parent: int, name: str, content: bytes) -> int:
        """An imported file: storage/KEY/name, as Zotero keeps it."""
        item, key = self.item("attachment", {"title": "Full Text PDF"})
        (self.folder / "storage" / key).mkdir(parents=True)
        (self.folder / "storage" / key / name).write_bytes(content)
        self.db.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                        "VALUES (?, ?, 0, 'application/pdf', ?)", (item, parent, f"storage:{name}"))
        return item

    def linked_pdf(self, parent: int, path: Path) -> int:
        item, _ = self.item("attachment", {"title": "Linked PDF"})
        self.db.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                        "VALUES (?, ?, 2, 'application/pdf', ?)", (item, parent, str(path)))
        return item

    def annotation(self, attachment: int, text: str) -> int:
        item, _ = self.item("annotation", {})
        self.db.execute("INSERT INTO itemAnnotations (itemID, parentItemID, type, text, sortIndex, position, "
                        "isExternal) VALUES (?, ?, 1, ?, '00000|000000|00000', '{}', 0)", (item, attachment, text))
        return item

    def feed_item(self, feed: int, title: str) -> int:
        item, _ = self.item("journalArticle", {"title": title}, library=feed)
        self.db.execute("INSERT INTO feedItems (itemID, guid) VALUES (?, ?)", (item, f"guid-{item}"))
        return item


def synthetic_library(folder: Path, items: int, seed: int = 10) -> Path:
    """A library of ``items`` journal articles with authors, tags and collections (benchmarks)."""
    rng = random.Random(seed)
    library = ZoteroLibrary(folder)
    collections = [library.collection(f"Project {n}") for n in range(20)]
    words = "spectral graph neural sparse attention retrieval citation corpus robust causal bayesian".split()
    for n in range(items):
        title = " ".join(rng.choice(words) for _ in range(6)).capitalize() + f" {n}"
        library.item("journalArticle", {"title": title, "date": f"{2000 + n % 25}-01-01 {2000 + n % 25}",
                                        "publicationTitle": "Journal of Tests", "volume": str(n % 40),
                                        "pages": f"{n % 90 + 1}-{n % 90 + 12}", "DOI": f"10.1234/test.{n}",
                                        "abstractNote": " ".join(rng.choice(words) for _ in range(40))},
                     creators=[("author", f"Ann{n % 97}", f"Author{n % 389}"), ("author", "Bo", f"Second{n % 53}")],
                     collections=[rng.choice(collections)], tags=[rng.choice(words)])
    library.close()
    return folder
