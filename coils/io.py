"""Coil files by extension: .ccd (read/write) and .tcd (read)."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import FileFormatError
from .ccd import read_ccd, write_ccd
from .coil import Coil
from .tcd import read_tcd

READERS = {".ccd": read_ccd, ".tcd": read_tcd}


def load(path: str | os.PathLike) -> Coil:
    """Read a SimNIBS coil file (.ccd or .tcd)."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such coil file")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise FileFormatError(f"{path}: unsupported coil format; use .ccd or .tcd")
    return reader(path)


def save(coil: Coil, path: str | os.PathLike) -> None:
    """Write ``coil`` to a .ccd file."""
    if Path(path).suffix.lower() != ".ccd":
        raise FileFormatError(f"{path}: coils can be written as .ccd only")
    write_ccd(coil, path)
