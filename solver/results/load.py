"""``load_result``: any saved result back as the object that saved it."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from ...core.errors import FileFormatError
from .archive import read_archive
from .folder import folder_of, load_folder

#: result type stored in an archive → (module, function(record, arrays, path) restoring it)
RESTORERS = {"FieldResult": ("tmsfield.solver.results.field", "field_from_archive"),
             "SurfaceFieldResult": ("tmsfield.solver.results.surface", "surface_from_archive"),
             "ThresholdResult": ("tmsfield.neurons.result", "threshold_from_archive"),
             "PlacementResult": ("tmsfield.optimize.placement", "placement_from_archive")}


def load_result(path: str | os.PathLike):
    """A result restored from ``path``: a ``tmsfield simulate`` output folder (or one of its
    files; a FieldResult with its head, coil and pose), or a .npz written by the ``save`` of
    FieldResult, SurfaceFieldResult, ThresholdResult or PlacementResult (the object of that
    type). FileFormatError naming the file when it cannot be read."""
    path = Path(path)
    if path.is_dir() or (path.suffix.lower() != ".npz" and folder_of(path) is not None):
        return load_folder(path)
    record, arrays = read_archive(path)
    try:
        module, function = RESTORERS[record["kind"]]
    except KeyError:
        raise FileFormatError(f"{path}: unknown result type {record.get('kind')!r}") from None
    return getattr(importlib.import_module(module), function)(record, arrays, path)
