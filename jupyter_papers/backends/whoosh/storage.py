"""How the index files are read: memory-mapped, in place.

Whoosh's default storage either copies each part of a compound segment into memory (at
158k papers a process held 600 MB and took 0.3 s to open the index) or, for separate
files, reads every term-dictionary probe with a seek and a read system call (typo
correction walks the dictionary: 4 million calls for 40 queries). Mapping each file once
gives both: no copies, and probes that are slices of memory.

The storage is also where an index's table of contents is read, so it is where our index
gets its own reading of Whoosh's files without changing Whoosh for the whole process: the
segments' codec is read as postings.SkippingCodec, and the schema is ours (analysis.py), not
the pickled one, whose classes may have moved between versions (the schema version file
says whether the index was written alike).
"""

from __future__ import annotations

import mmap
import os
import pickle

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _DEF_INDEX_NAME

from .analysis import make_schema
from .postings import SkippingCodec


class _OurCodec(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("whoosh.codec.whoosh3", "W3Codec"):
            return SkippingCodec
        return super().find_class(module, name)


class MappedFile(StructFile):
    """A read-only index file through mmap: reads and slices come from the page cache."""

    def __init__(self, path: str, name: str, **kwargs):
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        super().__init__(mapped, name=name, **kwargs)

    def get(self, position: int, length: int) -> bytes:
        return self.file[position:position + length]

    def read_pickle(self):
        return _OurCodec(self.file).load()


class MappedStorage(FileStorage):
    """A folder of index files whose files are opened as MappedFile (empty ones cannot be
    mapped and are opened as usual), and whose index is opened with our schema."""

    def open_index(self, indexname=_DEF_INDEX_NAME, schema=None, indexclass=None):
        return super().open_index(indexname, schema or make_schema(), indexclass)

    def open_file(self, name, **kwargs):
        path = self._fpath(name)
        if os.path.getsize(path) == 0:
            return super().open_file(name, **kwargs)
        return MappedFile(path, name, **kwargs)
