"""A Zotero library, read offline from its data directory: no account, no network, no
running Zotero needed, and never a write.

Zotero holds an exclusive lock on ``zotero.sqlite`` while it runs, and writes through a
write-ahead log: the database and its ``-wal`` file are copied to a private temporary
folder and the copy is read (SQLite replays the log into it). Items map to CSL the way
Zotero maps them (the ``csl`` section of zotero-schema's schema.json: item types, base
fields, creator types; a primary creator type not listed there is the author, any other
a contributor), so an item cites as Zotero would cite it. Notes, attachments,
annotations, trashed items and feeds are not papers. Each paper keeps its collections,
tags, library (the user's or a group's, named), its PDF attachments and a citation key:
Better BibTeX's where it has one (better-bibtex.sqlite), else Zotero's own citationKey
field, else a ``Citation Key:`` line in Extra, else ours.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from ..paper import Name, Paper
from . import Problem, Report, clean

DATABASE = "zotero.sqlite"
# Zotero refuses a database whose "compatibility" version is newer than its own; so do we.
KNOWN_COMPATIBILITY = 7
NOT_PAPERS = ("note", "attachment", "annotation")

CSL_TYPES = {
    "preprint": "article", "journalArticle": "article-journal", "magazineArticle": "article-magazine",
    "newspaperArticle": "article-newspaper", "bill": "bill", "book": "book", "podcast": "broadcast",
    "tvBroadcast": "broadcast", "radioBroadcast": "broadcast", "bookSection": "chapter", "dataset": "dataset",
    "document": "document", "dictionaryEntry": "entry-dictionary", "encyclopediaArticle": "entry-encyclopedia",
    "artwork": "graphic", "hearing": "hearing", "interview": "interview", "case": "legal_case",
    "statute": "legislation", "manuscript": "manuscript", "map": "map", "film": "motion_picture",
    "videoRecording": "motion_picture", "conferencePaper": "paper-conference", "patent": "patent",
    "letter": "personal_communication", "email": "personal_communication",
    "instantMessage": "personal_communication", "forumPost": "post", "blogPost": "post-weblog",
    "report": "report", "computerProgram": "software", "audioRecording": "song", "presentation": "speech",
    "standard": "standard", "thesis": "thesis", "webpage": "webpage",
}
# Zotero base field -> CSL variable (text variables; dates below)
CSL_FIELDS = {
    "abstractNote": "abstract", "archive": "archive", "archiveLocation": "archive_location",
    "authority": "authority", "callNumber": "call-number", "applicationNumber": "call-number",
    "session": "chapter-number", "citationKey": "citation-key", "seriesNumber": "collection-number",
    "seriesTitle": "collection-title", "series": "collection-title", "publicationTitle": "container-title",
    "reporter": "container-title", "code": "container-title", "artworkSize": "dimensions",
    "runningTime": "dimensions", "DOI": "DOI", "edition": "edition", "eventPlace": "event-place",
    "meetingName": "event-title", "conferenceName": "event-title", "type": "genre",
    "programmingLanguage": "genre", "ISBN": "ISBN", "ISSN": "ISSN", "issue": "issue", "priorityNumbers": "issue",
    "journalAbbreviation": "container-title-short", "language": "language", "rights": "license",
    "medium": "medium", "system": "medium", "extra": "note", "number": "number", "numPages": "number-of-pages",
    "numberOfVolumes": "number-of-volumes", "originalPublisher": "original-publisher",
    "originalPlace": "original-publisher-place", "partNumber": "part-number", "partTitle": "part-title",
    "pages": "page", "PMID": "PMID", "PMCID": "PMCID", "publisher": "publisher", "place": "publisher-place",
    "history": "references", "references": "references", "scale": "scale", "section": "section",
    "committee": "section", "shortTitle": "title-short", "libraryCatalog": "source", "status": "status",
    "title": "title", "url": "URL", "versionNumber": "version", "volume": "volume", "codeNumber": "volume",
}
CSL_DATES = {"accessDate": "accessed", "date": "issued", "filingDate": "submitted", "originalDate": "original-date"}
CSL_NAMES = {
    "author": "author", "bookAuthor": "container-author", "chair": "chair", "castMember": "performer",
    "composer": "composer", "contributor": "contributor", "creator": "author", "director": "director",
    "editor": "editor", "executiveProducer": "executive-producer", "guest": "guest", "host": "host",
    "interviewer": "interviewer", "narrator": "narrator", "originalCreator": "original-author",
    "organizer": "organizer", "podcaster": "host", "producer": "producer", "recipient": "recipient",
    "reviewedAuthor": "reviewed-author", "seriesCreator": "series-creator", "seriesEditor": "collection-editor",
    "scriptwriter": "script-writer", "translator": "translator",
}
# The primary creator type of each item type that CSL_NAMES does not list (Zotero cites it as author).
PRIMARY = {"artwork": "artist", "audioRecording": "performer", "bill": "sponsor", "computerProgram": "programmer",
           "film": "director", "hearing": "contributor", "interview": "interviewee", "map": "cartographer",
           "patent": "inventor", "podcast": "podcaster", "presentation": "presenter", "radioBroadcast": "creator",
           "tvBroadcast": "director", "videoRecording": "creator"}
_CITATION_KEY_LINE = re.compile(r"^\s*citation key\s*:\s*(\S+)\s*$", re.I | re.M)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class ZoteroError(ValueError):
    """The data directory cannot be read as a Zotero library; the message says why."""


def find_data_directory(home: Path | None = None) -> Path:
    """Where Zotero keeps its data: the profile's ``extensions.zotero.dataDir`` when set
    (prefs.js of any profile under ~/.zotero/zotero or the macOS and Windows equivalents),
    else ``~/Zotero``."""
    home = home or Path.home()
    profiles = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero",
                home / "AppData" / "Roaming" / "Zotero" / "Zotero"]
    for folder in profiles:
        for prefs in sorted(folder.glob("*/prefs.js")) if folder.is_dir() else []:
            text = prefs.read_text(encoding="utf-8", errors="replace")
            use = re.search(r'user_pref\("extensions\.zotero\.useDataDir",\s*(true|false)\)', text)
            found = re.search(r'user_pref\("extensions\.zotero\.dataDir",\s*"((?:[^"\\]|\\.)*)"\)', text)
            if found and (use is None or use.group(1) == "true"):
                candidate = Path(found.group(1).encode().decode("unicode_escape"))
                if (candidate / DATABASE).is_file():
                    return candidate
    default = home / "Zotero"
    if (default / DATABASE).is_file():
        return default
    raise ZoteroError(f"no Zotero data directory found (looked in {default} and the Zotero profiles' prefs.js); "
                      "name it: jupyter-papers sources add PATH")


def _copy_database(data_dir: Path, into: Path) -> Path:
    """The database with its write-ahead log, copied: Zotero's lock is on the original."""
    copy = into / DATABASE
    for suffix in ("", "-wal"):
        original = data_dir / (DATABASE + suffix)
        if original.is_file():
            shutil.copyfile(original, into / (DATABASE + suffix))
    return copy


def _check_version(db: sqlite3.Connection, data_dir: Path) -> None:
    versions = dict(db.execute("SELECT schema, version FROM version"))
    compatibility, userdata = versions.get("compatibility"), versions.get("userdata")
    if userdata is None:
        raise ZoteroError(f"{data_dir / DATABASE}: not a Zotero database (no userdata schema version)")
    if compatibility is not None and compatibility > KNOWN_COMPATIBILITY:
        raise ZoteroError(f"{data_dir / DATABASE}: made by a newer Zotero (database compatibility {compatibility}, "
                          f"userdata schema {userdata}; this reader knows compatibility {KNOWN_COMPATIBILITY} "
                          "and older); update jupyter-papers")


def read_library(data_dir: Path, report: Report) -> Iterator[Paper]:
    """Every paper of the Zotero library in ``data_dir`` (user and group libraries)."""
    data_dir = Path(data_dir)
    if not (data_dir / DATABASE).is_file():
        raise ZoteroError(f"{data_dir}: no {DATABASE} here; is this Zotero's data directory?")
    with tempfile.TemporaryDirectory(prefix="jupyter-papers-zotero-") as folder:
        try:
            db = sqlite3.connect(_copy_database(data_dir, Path(folder)))
            try:
                _check_version(db, data_dir)
                papers = list(_papers(db, data_dir, report))
            finally:
                db.close()
        except sqlite3.DatabaseError as error:
            raise ZoteroError(f"{data_dir / DATABASE}: cannot be read ({error}); the papers read before are kept") \
                from None
    yield from papers


def _papers(db: sqlite3.Connection, data_dir: Path, report: Report) -> Iterator[Paper]:
    origin = f"zotero:{data_dir}"
    items = db.execute("""
        SELECT items.itemID, items.key, itemTypesCombined.typeName, items.libraryID
        FROM items JOIN itemTypesCombined USING (itemTypeID)
        JOIN libraries USING (libraryID)
        WHERE itemTypesCombined.typeName NOT IN (?, ?, ?)
          AND items.itemID NOT IN (SELECT itemID FROM deletedItems)
          AND items.itemID NOT IN (SELECT itemID FROM feedItems)
          AND libraries.type != 'feed'
        ORDER BY items.itemID""", NOT_PAPERS).fetchall()
    fields, creators = _fields(db), _creators(db)
    collections, tags, libraries = _collections(db), _tags(db), _libraries(db)
    attachments, keys = _attachments(db, data_dir), _better_bibtex_keys(data_dir)
    for item_id, item_key, kind, library_id in items:
        try:
            yield _paper(item_id, item_key, kind, fields.get(item_id, {}), creators.get(item_id, []),
                         collections.get(item_id, []), tags.get(item_id, []), libraries.get(library_id, ""),
                         attachments.get(item_id, []), keys.get((library_id, item_key)), origin)
        except (TypeError, ValueError) as error:
            report(Problem(origin, None, f"item {item_key} skipped: {error}"))


def _fields(db) -> dict[int, dict[str, str]]:
    """Each item's fields by their base field's name (``university`` is ``publisher``)."""
    rows = db.execute("""
        SELECT itemData.itemID, COALESCE(base.fieldName, fieldsCombined.fieldName), itemDataValues.value
        FROM itemData JOIN items USING (itemID)
        JOIN fieldsCombined ON fieldsCombined.fieldID = itemData.fieldID
        JOIN itemDataValues USING (valueID)
        LEFT JOIN baseFieldMappingsCombined AS mapping
             ON mapping.itemTypeID = items.itemTypeID AND mapping.fieldID = itemData.fieldID
        LEFT JOIN fieldsCombined AS base ON base.fieldID = mapping.baseFieldID""")
    fields: dict[int, dict[str, str]] = defaultdict(dict)
    for item_id, name, value in rows:
        fields[item_id][name] = str(value)
    return fields


def _creators(db) -> dict[int, list[tuple[str, dict]]]:
    rows = db.execute("""
        SELECT itemID, creatorTypes.creatorType, creators.firstName, creators.lastName, creators.fieldMode
        FROM itemCreators JOIN creators USING (creatorID) JOIN creatorTypes USING (creatorTypeID)
        ORDER BY itemID, orderIndex""")
    creators: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for item_id, role, first, last, mode in rows:
        name = {"literal": last or first or ""} if mode == 1 else {"family": last or "", "given": first or ""}
        creators[item_id].append((role, {k: v for k, v in name.items() if v}))
    return creators


def _collections(db) -> dict[int, list[str]]:
    """Each item's collections as paths ("Thesis/Chapter 2")."""
    parent, name = {}, {}
    for collection_id, collection_name, parent_id in db.execute(
            "SELECT collectionID, collectionName, parentCollectionID FROM collections"):
        parent[collection_id], name[collection_id] = parent_id, collection_name

    def path(collection_id, depth=0) -> str:
        up = parent.get(collection_id)
        return f"{path(up, depth + 1)}/{name[collection_id]}" if up in name and depth < 50 else name[collection_id]

    found: dict[int, list[str]] = defaultdict(list)
    for item_id, collection_id in db.execute("SELECT itemID, collectionID FROM collectionItems"):
        if collection_id in name:
            found[item_id].append(path(collection_id))
    return found


def _tags(db) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for item_id, tag in db.execute("SELECT itemID, name FROM itemTags JOIN tags USING (tagID) ORDER BY name"):
        found[item_id].append(tag)
    return found


def _libraries(db) -> dict[int, str]:
    """Group libraries by name; the user's own library is ''."""
    return dict(db.execute("SELECT libraryID, name FROM groups"))


def _attachments(db, data_dir: Path) -> dict[int, list[str]]:
    """The PDF files of each item that exist on this machine: stored ones (storage/KEY/name)
    and linked ones (an absolute path, or one under the linked-attachment base folder)."""
    base = ""
    for (value,) in db.execute("SELECT value FROM settings WHERE setting = 'baseAttachmentPath'"):
        base = value
    found: dict[int, list[str]] = defaultdict(list)
    rows = db.execute("""
        SELECT itemAttachments.parentItemID, items.key, itemAttachments.path, itemAttachments.contentType
        FROM itemAttachments JOIN items USING (itemID)
        WHERE itemAttachments.parentItemID IS NOT NULL
          AND itemAttachments.itemID NOT IN (SELECT itemID FROM deletedItems)""")
    for parent, key, stored, content_type in rows:
        if not stored or (content_type or "application/pdf") != "application/pdf":
            continue
        if stored.startswith("storage:"):
            file = data_dir / "storage" / key / stored.removeprefix("storage:")
        elif stored.startswith("attachments:"):
            file = Path(base) / stored.removeprefix("attachments:") if base else None
        else:
            file = Path(stored)
        if file is not None and file.is_file():
            found[parent].append(str(file))
    return found


def _better_bibtex_keys(data_dir: Path) -> dict[tuple[int, str], str]:
    """Better BibTeX's citation keys by (library, item key), from its own database."""
    database = data_dir / "better-bibtex.sqlite"
    if not database.is_file():
        return {}
    with tempfile.TemporaryDirectory(prefix="jupyter-papers-bbt-") as folder:
        copy = Path(folder) / database.name
        shutil.copyfile(database, copy)
        try:
            db = sqlite3.connect(copy)
            try:
                return {(library, key): citation_key for library, key, citation_key in db.execute(
                    "SELECT libraryID, itemKey, citationKey FROM citationkey")}
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return {}


def _date_parts(value: str) -> dict | None:
    """Zotero stores dates as "YYYY-MM-DD original text" (00 for a missing part)."""
    match = _DATE.match(value)
    if not match:
        return {"raw": value.strip()} if value.strip() else None
    parts = [int(part) for part in match.groups()]
    while parts and parts[-1] == 0:
        parts.pop()
    return {"date-parts": [parts]} if parts else {"raw": value.split(" ", 1)[-1]}


def _paper(item_id, item_key, kind, fields, creators, collections, tags, library, pdfs, bbt_key, origin) -> Paper:
    csl: dict = {}
    for name, value in fields.items():
        if name in CSL_DATES:
            date = _date_parts(value)
            if date:
                csl[CSL_DATES[name]] = date
        elif name in CSL_FIELDS and value.strip():
            csl[CSL_FIELDS[name]] = value.strip()
    names: dict[str, list[dict]] = defaultdict(list)
    for role, name in creators:
        role = CSL_NAMES.get(role) or ("author" if PRIMARY.get(kind) == role else "contributor")
        names[role].append(name)
    csl.update({role: people for role, people in names.items() if role not in ("author", "editor")})
    key = bbt_key or csl.pop("citation-key", "") or _key_in_extra(fields.get("extra", ""))
    csl.pop("citation-key", None)
    extra = {"zotero": f"{library}/{item_key}" if library else item_key}
    if collections:
        extra["collections"] = "; ".join(collections)
    if library:
        extra["library"] = library
    if pdfs:
        extra["pdf"] = pdfs[0]
    arxiv_id = _arxiv_id(csl, kind)
    return Paper(
        id=arxiv_id or csl.get("DOI", "").strip().lower() or f"zotero:{library + '/' if library else ''}{item_key}",
        title=clean(csl.pop("title", "")), abstract=clean(csl.pop("abstract", "")),
        authors=[Name.from_csl(n) for n in names.get("author", [])],
        editors=[Name.from_csl(n) for n in names.get("editor", [])],
        year=(csl.get("issued") or {}).get("date-parts", [[None]])[0][0],
        venue=clean(csl.pop("container-title", "")), doi=clean(csl.pop("DOI", "")), url=clean(csl.pop("URL", "")),
        arxiv_id=arxiv_id, keywords=tags + [f"collection: {c}" for c in collections], key=key,
        type=CSL_TYPES.get(kind, "document"), csl=csl, extra=extra, source=origin)


def _arxiv_id(csl: dict, kind: str) -> str:
    """A preprint's arXiv id: Zotero keeps it as the archive id ("arXiv:2403.00071")."""
    number = csl.get("number", "")
    if kind == "preprint" and number.lower().startswith("arxiv:"):
        return number.split(":", 1)[1]
    return ""


def _key_in_extra(extra: str) -> str:
    found = _CITATION_KEY_LINE.search(extra or "")
    return found.group(1) if found else ""


def is_data_directory(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / DATABASE).is_file()

