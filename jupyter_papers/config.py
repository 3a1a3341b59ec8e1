"""Where things live: the index, the settings, the bundled demo corpus."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

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


def index_location(named: str | Path | None = None) -> str | Path:
    """Where every front end finds the index: ``named`` (a setting, an option), else
    ``JUPYTER_PAPERS_INDEX`` (a folder, or an OpenSearch index as
    ``opensearch://host:9200/papers``, for a JupyterHub's users to share), else the default
    folder."""
    named = str(named or os.environ.get(INDEX_VARIABLE, "")).strip()
    if not named:
        return default_index_dir()
    return named if is_remote(named) else Path(named).expanduser()


def local_folder(location: str | Path) -> Path:
    """The folder of this user's own beside an index, where its list of sources lives: the
    index's own folder, or for a shared OpenSearch index one under the home per host and
    alias (the sources are the user's; their papers go to the shared index)."""
    if not is_remote(location):
        return Path(location)
    host, port, alias = opensearch_address(location)
    return home() / "opensearch" / f"{host}-{port}-{alias}"


def opensearch_address(url: str) -> tuple[str, int, str]:
    """The host, port and alias an ``opensearch[s]://host:port/alias`` location names."""
    parsed = urlparse(str(url))
    return parsed.hostname, parsed.port or 9200, parsed.path.strip("/") or "papers"


def is_remote(location) -> bool:
    return str(location).startswith(("opensearch://", "opensearchs://"))


def bundled_corpus() -> Path:
    """The demo listing; its metadata file lies beside it."""
    return Path(__file__).parent / "data" / "papers-listing.txt"
