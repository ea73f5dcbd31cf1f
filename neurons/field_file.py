"""A field read back from the files ``tmsfield simulate`` writes, for the ``thresholds`` CLI.

FieldResult has no reader yet, so this reads ``field.vtu`` (metres, per-tetrahedron E in
V/m) and ``summary.json`` (dI/dt) and samples E element-wise (piecewise constant: coarser
than ``FieldResult.sample``'s recovered or native interpolation).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError
from ..head_models.io import load_head
from ..solver.result import read_summary


@dataclasses.dataclass(eq=False)
class ElementField:
    """E (M, 3) V/m per tetrahedron of ``head`` for coil slope ``didt`` (A/s, a 1-tuple)."""
    head: object
    E: np.ndarray
    didt: tuple

    def sample(self, points) -> np.ndarray:
        """E at ``points`` (P, 3) m: the containing element's value; NaN outside the mesh."""
        element, _ = self.head.locate(np.asarray(points, dtype=float))
        out = np.full((len(element), 3), np.nan)
        ok = element >= 0
        out[ok] = self.E[element[ok]]
        return out


def load_field(path: str | os.PathLike) -> ElementField:
    """Read ``path``: a ``tmsfield simulate`` output folder or its field.vtu (summary.json
    beside it supplies dI/dt; 1e6 A/s, the simulate default, is assumed when it is absent)."""
    import meshio
    path = Path(path)
    vtu = path / "field.vtu" if path.is_dir() else path
    if vtu.suffix.lower() != ".vtu" or not vtu.is_file():
        raise FileFormatError(f"{path}: expected a `tmsfield simulate` output folder or its field.vtu")
    head = load_head(vtu)
    mesh = meshio.read(vtu)
    if "E" not in mesh.cell_data:
        raise FileFormatError(f"{vtu}: no cell data 'E' (write it with `tmsfield simulate`)")
    blocks = [np.asarray(e) for block, e in zip(mesh.cells, mesh.cell_data["E"]) if block.type == "tetra"]
    field = np.concatenate(blocks).reshape(-1, 3)
    if len(field) != head.n_tets or not np.isfinite(field).all():
        raise FileFormatError(f"{vtu}: cell data 'E' must be finite with one row per tetrahedron")
    didt = 1e6
    summary = vtu.parent / "summary.json"
    if summary.is_file():
        didt = _didt(read_summary(summary)["provenance"], summary)
    return ElementField(head, field, (didt,))


def _didt(provenance: dict, path: Path) -> float:
    """The coil's dI/dt (A/s) recorded in a summary's provenance: one finite value > 0."""
    values = provenance.get("didt_A_per_s")
    try:
        didt = float(values[0])
    except (TypeError, ValueError, IndexError, KeyError):
        raise FileFormatError(f"{path}: provenance.didt_A_per_s must be a list of numbers (A/s), got {values!r}; "
                              "rerun `tmsfield simulate`") from None
    if not np.isfinite(didt) or didt <= 0:
        raise FileFormatError(f"{path}: provenance.didt_A_per_s[0] must be finite and > 0, got {didt}")
    return didt
