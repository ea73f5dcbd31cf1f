"""The ``.npz`` archive every result type saves to and loads from: named numpy arrays plus one
JSON record, tagged with the result type and a format version.

Layout of a file: ``record`` (a 0-d unicode array holding JSON: ``{"format": "tmsfield",
"kind": <class name>, "version": FORMAT_VERSION, ...}``) and the arrays of that kind. Heads,
coils and poses are stored as their arrays (``head_*``, ``coil_*``, ``pose_matrix``), so a
loaded result needs no other file and no built-in coil name. Arrays are read with
``allow_pickle=False``.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError
from ...core.files import atomic_path

FORMAT = "tmsfield"
FORMAT_VERSION = 1


def write_archive(path: str | os.PathLike, kind: str, arrays: dict, record: dict) -> None:
    """Write ``arrays`` (name → array; None entries are skipped) and ``record`` (JSON-ready)
    atomically to the .npz ``path`` as a result of type ``kind``."""
    header = {"format": FORMAT, "kind": kind, "version": FORMAT_VERSION, **record}
    data = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, record=np.array(json.dumps(header)), **data)


def read_archive(path: str | os.PathLike, kind: str | None = None) -> tuple[dict, dict]:
    """(record, arrays) of the .npz ``path``; FileFormatError naming the file when it is not a
    tmsfield result archive (of type ``kind``, when given) or is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such result file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path}: not a readable .npz result ({type(exc).__name__}: {exc})") from None
    try:
        record = json.loads(str(arrays.pop("record")[()]))
    except (KeyError, ValueError, TypeError, IndexError):
        record = None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not a tmsfield result file (no tmsfield record; results saved "
                              "before the results package cannot be loaded: save them again)")
    if record.get("version") != FORMAT_VERSION:
        raise FileFormatError(f"{path}: result format version {record.get('version')!r}; this tmsfield "
                              f"reads version {FORMAT_VERSION}")
    if kind is not None and record.get("kind") != kind:
        raise FileFormatError(f"{path}: holds a {record.get('kind')}, not a {kind}")
    return record, arrays


def archive_kind(path: str | os.PathLike) -> str:
    """The result type (class name) stored in the .npz ``path``."""
    return read_archive(path)[0]["kind"]


def need(arrays: dict, name: str, path) -> np.ndarray:
    """``arrays[name]``, or a FileFormatError naming the file and the missing array."""
    try:
        return arrays[name]
    except KeyError:
        raise FileFormatError(f"{path}: the result file has no array {name!r} (truncated or not "
                              "written by this tmsfield)") from None


# --- heads, coils and poses as arrays -------------------------------------------------------
def head_arrays(head) -> dict:
    return {"head_nodes": head.nodes, "head_tets": head.tets, "head_tags": head.tags,
            "head_triangles": head.triangles, "head_triangle_tags": head.triangle_tags}


def head_from(arrays: dict, record: dict, path):
    from ...head_models.mesh import HeadMesh
    return HeadMesh(need(arrays, "head_nodes", path), need(arrays, "head_tets", path), need(arrays, "head_tags", path),
                    triangles=need(arrays, "head_triangles", path),
                    triangle_tags=need(arrays, "head_triangle_tags", path), name=record.get("head_name", "head"))


COIL_ARRAYS = ("dipole_positions", "dipole_moments", "segment_starts", "segment_ends", "segment_weights",
               "dipole_stimulator", "segment_stimulator")


#: the arrays that make an Interfaces (solver/bem/interfaces.py)
INTERFACE_FIELDS = ("vertices", "triangles", "tag_in", "tag_out", "sigma_in", "sigma_out")


def interface_arrays(interfaces, prefix: str = "interface_") -> dict:
    """The arrays of a BEM's Interfaces (none for None), named ``prefix`` + field."""
    if interfaces is None:
        return {}
    return {prefix + name: getattr(interfaces, name) for name in INTERFACE_FIELDS}


def interfaces_from(arrays: dict, prefix: str = "interface_", name: str = "interfaces"):
    """The Interfaces stored by :func:`interface_arrays`, or None when the archive has none."""
    if prefix + "vertices" not in arrays:
        return None
    from ..bem.interfaces import Interfaces
    return Interfaces(*(arrays[prefix + field] for field in INTERFACE_FIELDS), name=name)


def coil_arrays(coil) -> dict:
    """The coil's elements as ``coil_*`` arrays (empty for no coil)."""
    if coil is None:
        return {}
    out = {f"coil_{k}": getattr(coil, k) for k in COIL_ARRAYS}
    out["coil_max_didt"] = np.asarray(coil.max_didt, dtype=float)
    for i, grid in enumerate(coil.grids):           # sampled A-fields (NIfTI coils, .tcd type 3)
        out.update({f"coil_grid{i}_values": grid.values, f"coil_grid{i}_affine": grid.affine,
                    f"coil_grid{i}_frame": grid.frame,
                    f"coil_grid{i}_scale_stimulator": np.array([grid.scale, grid.stimulator], dtype=float)})
    return out


def coil_from(arrays: dict, record: dict, path):
    """The Coil stored by :func:`coil_arrays`, or None when the file holds none."""
    if "coil_dipole_positions" not in arrays:
        return None
    from ...coils.coil import Coil
    from ...coils.grid import AFieldGrid
    grids = []
    while f"coil_grid{len(grids)}_values" in arrays:
        key = f"coil_grid{len(grids)}"
        scale, stimulator = need(arrays, f"{key}_scale_stimulator", path)
        grids.append(AFieldGrid(need(arrays, f"{key}_values", path), need(arrays, f"{key}_affine", path),
                                need(arrays, f"{key}_frame", path), float(scale), int(stimulator)))
    return Coil(**{k: need(arrays, f"coil_{k}", path) for k in COIL_ARRAYS},
                max_didt=tuple(need(arrays, "coil_max_didt", path)), name=record.get("coil_name", "coil"),
                grids=tuple(grids))


def pose_from(arrays: dict):
    """The CoilPose stored as ``pose_matrix`` (4×4, m), or None."""
    if "pose_matrix" not in arrays:
        return None
    from ...coils.pose import CoilPose
    return CoilPose(arrays["pose_matrix"])


def restore_keys(provenance: dict) -> dict:
    """Provenance read back from JSON, with the integer tissue tags of the conductivity
    overrides restored (JSON object keys are strings)."""
    if isinstance(provenance.get("conductivity_overrides"), dict):
        provenance["conductivity_overrides"] = {int(k): v for k, v in provenance["conductivity_overrides"].items()}
    return provenance
