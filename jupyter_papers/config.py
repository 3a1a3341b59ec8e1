"""Where things live: the index, the settings, the bundled demo corpus."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "jupyter-papers"
HOME_VARIABLE = "JUPYTER_PAPERS_HOME"


def home() -> Path:
    """JUPYTER_PAPERS_HOME if set, else the platform's per-user data folder."""
    override = os.environ.get(HOME_VARIABLE)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))


def default_index_dir() -> Path:
    return home() / "index"


INDEX_VARIABLE = "JUPYTER_PAPERS_INDEX"


def index_location() -> str | Path:
    """Where every front end finds the index: ``JUPYTER_PAPERS_INDEX`` (a folder, or an
    OpenSearch index as ``opensearch://host:9200/papers``, for a JupyterHub's users to
    share) if set, else the default folder."""
    named = os.environ.get(INDEX_VARIABLE, "").strip()
    if not named:
        return default_index_dir()
    return named if is_remote(named) else Path(named).expanduser()


def is_remote(location) -> bool:
    return str(location).startswith(("opensearch://", "opensearchs://"))


def bundled_corpus() -> Path:
    """The demo listing; its metadata file lies beside it."""
    return Path(__file__).parent / "data" / "papers-listing.txt"
