"""SimNIBS .tcd coil files (JSON; schema coil_model.schema.json in SimNIBS).

Supported elements: type 1 (dipoles, moments in A·m²) and type 2 (line elements: a segment
midpoint and its direction×length vector, both in mm; zero-length entries are skipped).
Each element names its stimulator, whose ``maxdIdt`` (A/s) becomes ``Coil.max_didt``.
Deformations are accepted at a zero initial setting (the coil as stored); type 3 (sampled A
grids) and non-zero deformations are not supported yet and are refused clearly.
"""
from __future__ import annotations

import base64
import json
import os
import zlib
from pathlib import Path

import numpy as np

from ..core.errors import CoilError, FileFormatError
from .coil import Coil

MM = 1e-3


def _array(value, path: Path, what: str) -> np.ndarray:
    """A (n, 3) array stored either as nested lists or as base64(zlib(float64 bytes))."""
    try:
        if isinstance(value, str):
            raw = zlib.decompress(base64.b64decode(value))
            arr = np.frombuffer(raw, dtype="<f8").reshape(-1, 3)
        else:
            arr = np.asarray(value, dtype=float).reshape(-1, 3)
    except (ValueError, zlib.error, TypeError) as exc:
        raise FileFormatError(f"{path}: cannot decode {what} ({exc})") from exc
    if not np.isfinite(arr).all():
        raise CoilError(f"{path}: NaN or infinite value in {what}")
    return arr


def _check_deformations(spec: dict, path: Path) -> None:
    for i, rng in enumerate(spec.get("deformRangeList") or []):
        if float(rng.get("initial", 0.0)) != 0.0:
            raise FileFormatError(f"{path}: deformRangeList[{i}] has a non-zero initial "
                                  "deformation, not supported yet")


def read_tcd(path: str | os.PathLike) -> Coil:
    """Read a .tcd file into a :class:`Coil` (dipoles and segments, SI units)."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"{path}: not a readable .tcd (JSON) file: {exc}") from exc
    elements = spec.get("coilElementList") if isinstance(spec, dict) else None
    if not elements:
        raise FileFormatError(f"{path}: no 'coilElementList'")
    _check_deformations(spec, path)
    dip_p, dip_m, dip_s, seg_a, seg_b, seg_s = [], [], [], [], [], []
    for i, el in enumerate(elements):
        what = f"coilElementList[{i}] ({el.get('name', '')})"
        try:
            kind, stim = int(el["type"]), int(el["stimulator"])
        except (KeyError, ValueError, TypeError):
            raise FileFormatError(f"{path}: {what} needs integer 'type' and 'stimulator'") from None
        if kind == 3:
            raise FileFormatError(f"{path}: {what} is a sampled A-field grid (type 3), "
                                  "not supported yet")
        if kind not in (1, 2) or "points" not in el or "values" not in el:
            raise FileFormatError(f"{path}: {what} has unknown type {kind} or lacks points/values")
        points = _array(el["points"], path, f"{what} points") * MM
        values = _array(el["values"], path, f"{what} values")
        if len(points) != len(values):
            raise FileFormatError(f"{path}: {what} has {len(points)} points but {len(values)} values")
        if kind == 1:
            dip_p.append(points), dip_m.append(values), dip_s.append(np.full(len(points), stim))
        else:  # points are segment midpoints (checked on SimNIBS' example coils)
            keep = np.any(values != 0, axis=1)  # zero-length placeholders carry no current
            points, values = points[keep], values[keep]
            half = 0.5 * values * MM
            seg_a.append(points - half), seg_b.append(points + half), seg_s.append(np.full(len(points), stim))
    cat = lambda parts, shape: np.concatenate(parts) if parts else np.zeros(shape)
    stimulators = spec.get("stimulatorList") or []
    max_didt = tuple(float(s["maxdIdt"]) for s in stimulators if "maxdIdt" in s)
    return Coil(dipole_positions=cat(dip_p, (0, 3)), dipole_moments=cat(dip_m, (0, 3)),
                dipole_stimulator=cat(dip_s, (0,)).astype(int),
                segment_starts=cat(seg_a, (0, 3)), segment_ends=cat(seg_b, (0, 3)),
                segment_stimulator=cat(seg_s, (0,)).astype(int), max_didt=max_didt,
                name=spec.get("name") or path.stem)
