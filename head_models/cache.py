"""A small on-disk cache of generated meshes (numpy .npz) in the user cache directory."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from ..core.files import atomic_path

log = logging.getLogger("tmsfield")


def cache_dir() -> Path:
    """Folder for generated data: ``$TMSFIELD_CACHE_DIR``, else ``$XDG_CACHE_HOME/tmsfield``,
    else ``~/.cache/tmsfield`` (created on first write, not here)."""
    explicit = os.environ.get("TMSFIELD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "tmsfield"


def cache_key(parameters: dict) -> str:
    """Short stable hash (16 hex digits) of JSON-serialisable ``parameters``."""
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Arrays stored at ``path``, or None when the file is missing or unreadable (then the
    caller regenerates; a damaged cache entry is never an error)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        log.warning("ignoring unreadable cache file %s (%s); regenerating", path, exc)
        return None


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (.npz) atomically; a failure to write only logs a warning."""
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as exc:
        log.warning("could not write the cache file %s (%s); continuing without caching", path, exc)
