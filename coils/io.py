"""Coil files by extension: .ccd (read/write), .tcd (read) and SimNIBS' sampled A-field grids in
NIfTI images, .nii / .nii.gz (read; coils/grid.py; needs nibabel, ``tmsfield[nifti]``)."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import FileFormatError
from .ccd import DEFAULT_MAX_ELEMENTS, read_ccd, write_ccd
from .coil import Coil
from .tcd import read_tcd

READERS = {".ccd": read_ccd, ".tcd": read_tcd}
#: SimNIBS' sampled A-field coils (NIfTI images)
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_coil_file_name(name: str | os.PathLike) -> bool:
    """Whether ``name`` ends like a SimNIBS coil file (.ccd, .tcd, .nii, .nii.gz)."""
    lower = str(name).lower()
    return lower.endswith(tuple(READERS)) or lower.endswith(NIFTI_SUFFIXES)


def load(path: str | os.PathLike, *, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Coil:
    """Read a SimNIBS coil file (.ccd, .tcd, or a NIfTI A-field grid .nii/.nii.gz).

    ``max_elements`` caps the number of dipoles/segments the file may hold (checked before
    allocating); raise it for a coil that really is larger."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such coil file")
    if str(path).lower().endswith(NIFTI_SUFFIXES):
        from .grid import read_nifti_coil
        name = path.name[:-len(".nii.gz")] if path.name.lower().endswith(".nii.gz") else path.stem
        return Coil(grids=(read_nifti_coil(path),), name=name)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise FileFormatError(f"{path}: unsupported coil format; use .ccd, .tcd or .nii/.nii.gz")
    return reader(path, max_elements=max_elements)


def save(coil: Coil, path: str | os.PathLike) -> None:
    """Write ``coil`` to a .ccd file."""
    if Path(path).suffix.lower() != ".ccd":
        raise FileFormatError(f"{path}: coils can be written as .ccd only")
    write_ccd(coil, path)
