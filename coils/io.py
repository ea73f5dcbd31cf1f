"""Coil files by extension: .ccd (read/write) and .tcd (read).

SimNIBS' third coil format, a sampled A-field grid in a NIfTI image (.nii, .nii.gz), is not
supported yet: such a file is refused with an error that says so.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import FileFormatError
from .ccd import DEFAULT_MAX_ELEMENTS, read_ccd, write_ccd
from .coil import Coil
from .tcd import read_tcd

READERS = {".ccd": read_ccd, ".tcd": read_tcd}
#: SimNIBS' sampled A-field coils (NIfTI images): recognised, not readable yet
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_coil_file_name(name: str | os.PathLike) -> bool:
    """Whether ``name`` ends like a SimNIBS coil file (.ccd, .tcd, .nii, .nii.gz)."""
    lower = str(name).lower()
    return lower.endswith(tuple(READERS)) or lower.endswith(NIFTI_SUFFIXES)


def load(path: str | os.PathLike, *, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Coil:
    """Read a SimNIBS coil file (.ccd or .tcd).

    ``max_elements`` caps the number of dipoles/segments the file may hold (checked before
    allocating); raise it for a coil that really is larger."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such coil file")
    if str(path).lower().endswith(NIFTI_SUFFIXES):
        raise FileFormatError(f"{path}: sampled A-field coils (NIfTI .nii/.nii.gz) are not supported yet; "
                              "use the coil's .ccd (dipoles) or .tcd version, e.g. from SimNIBS' "
                              "resources/coil_models")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise FileFormatError(f"{path}: unsupported coil format; use .ccd or .tcd")
    return reader(path, max_elements=max_elements)


def save(coil: Coil, path: str | os.PathLike) -> None:
    """Write ``coil`` to a .ccd file."""
    if Path(path).suffix.lower() != ".ccd":
        raise FileFormatError(f"{path}: coils can be written as .ccd only")
    write_ccd(coil, path)
