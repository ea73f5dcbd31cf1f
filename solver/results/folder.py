"""The ``tmsfield simulate`` output folder: what is in it, writing it, and reading it back.

A folder holds field.msh (gmsh/SimNIBS, mm), field.vtu (ParaView, m), summary.txt and
summary.json (:meth:`FieldResult.summary_record`), result.npz (everything
:func:`tmsfield.load_result` needs: :meth:`FieldResult.save`), and optionally config.toml (the
command's options), magnE.nii.gz (|E| on a reference image's voxels) and field.png.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError
from ...core.files import write_text_atomic

#: the file :func:`load_folder` restores the result from
RESULT_FILE = "result.npz"
#: the files :func:`save_folder` writes (config.toml and magnE.nii.gz when asked for)
FOLDER_FILES = ("field.msh", "field.vtu", "summary.txt", "summary.json", RESULT_FILE, "config.toml", "magnE.nii.gz",
                "cortex.surf.gii", "cortex_E.func.gii", "cortex.magnE", "cortex.E_normal", "cortex.E_tangential")


def save_folder(result, out: str | os.PathLike, *, config: str | None = None, nifti_reference=None, rois=(),
                cortex: bool = False, verbose: bool = True) -> list[str]:
    """Write ``result``'s files into the existing folder ``out`` (each atomically): field.msh,
    field.vtu, summary.txt, summary.json (with the statistics of ``rois``) and result.npz, plus
    config.toml holding ``config``, magnE.nii.gz on the grid of ``nifti_reference`` when given,
    and with ``cortex`` the grey-matter mid-surface and its fields as GIfTI (cortex.py). Wrap it in
    :func:`tmsfield.core.files.replaced_folder` to make the whole folder atomic. Returns the
    names written."""
    out = Path(out)
    result.save(out / "field.msh")
    result.save(out / "field.vtu")
    regions = result.roi_statistics(rois)
    write_text_atomic(out / "summary.txt", result.summary(regions) + "\n")
    write_text_atomic(out / "summary.json", json.dumps(result.summary_record(regions), indent=2) + "\n")
    result.save(out / RESULT_FILE)
    names = ["field.msh", "field.vtu", "summary.txt", "summary.json", RESULT_FILE]
    if config is not None:
        write_text_atomic(out / "config.toml", config)
        names.append("config.toml")
    if nifti_reference is not None:
        from .nifti import save_nifti
        save_nifti(result, out / "magnE.nii.gz", nifti_reference, verbose=verbose)
        names.append("magnE.nii.gz")
    if cortex:
        from .cortex import save_cortex
        names += save_cortex(result, out)
    return names


def read_summary(path: str | os.PathLike) -> dict:
    """The record of a summary.json written by ``tmsfield simulate`` (see
    :meth:`FieldResult.summary_record`); FileFormatError naming the file when it is not valid
    JSON or has no "provenance" object."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FileFormatError(f"{path}: not a readable JSON summary ({type(exc).__name__}: {exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("provenance"), dict):
        raise FileFormatError(f"{path}: not a `tmsfield simulate` summary (no \"provenance\" object); "
                              "rerun `tmsfield simulate` to rewrite it")
    return record


def folder_of(path: str | os.PathLike) -> Path | None:
    """The simulate folder ``path`` is or lies in (a folder, or one of its files), or None."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return folder if path.is_dir() or path.name in FOLDER_FILES + ("field.png",) else None


def load_folder(path: str | os.PathLike):
    """The FieldResult of a ``tmsfield simulate`` folder (or of the folder a file of it lies in):
    restored from result.npz, after checking summary.json (when present) against it.

    FileFormatError naming the file: no result.npz (folders written before it existed: rerun
    `tmsfield simulate`), a summary.json that is not a summary, has a bad dI/dt or pose, or
    belongs to another run."""
    folder = folder_of(path)
    if folder is None or not folder.is_dir():
        raise FileFormatError(f"{path}: expected a `tmsfield simulate` output folder, one of its files or a "
                              "result .npz")
    summary = folder / "summary.json"
    record = read_summary(summary)["provenance"] if summary.is_file() else None
    npz = folder / RESULT_FILE
    if not npz.is_file():
        raise FileFormatError(f"{npz}: missing; this folder was not written by `tmsfield simulate` of this "
                              "version (rerun it to write the result file)")
    from .archive import read_archive
    from .field import field_from_archive
    result = field_from_archive(*read_archive(npz, "FieldResult"), npz)
    if record is not None:
        _check_summary(record, result, summary, npz)
    return result


def _check_summary(record: dict, result, summary: Path, npz: Path) -> None:
    """summary.json's dI/dt and pose must be well-formed and those of result.npz."""
    values = record.get("didt_A_per_s")
    try:
        didt = np.array([float(v) for v in values])
    except (TypeError, ValueError):
        raise FileFormatError(f"{summary}: provenance.didt_A_per_s must be a list of numbers (A/s), got "
                              f"{values!r}; rerun `tmsfield simulate`") from None
    if not len(didt) or not np.isfinite(didt).all() or (didt <= 0).any():
        raise FileFormatError(f"{summary}: provenance.didt_A_per_s must be finite and > 0, got {values!r}")
    if len(didt) != len(result.didt) or not np.allclose(didt, result.didt, rtol=1e-12, atol=0):
        raise FileFormatError(f"{summary}: dI/dt {didt.tolist()} A/s differs from {npz.name}'s "
                              f"{list(result.didt)}: the files come from different runs")
    if "matsimnibs_mm" in record:
        try:
            matrix = np.array(record["matsimnibs_mm"], dtype=float)
            if matrix.shape != (4, 4):
                raise ValueError(f"shape {matrix.shape}")
        except (TypeError, ValueError) as exc:
            raise FileFormatError(f"{summary}: provenance.matsimnibs_mm is not a 4x4 matrix ({exc})") from None
        if result.pose is None or not np.allclose(matrix, result.pose.to_matsimnibs("mm"), rtol=0, atol=1e-9):
            raise FileFormatError(f"{summary}: provenance.matsimnibs_mm differs from the pose in {npz.name}: "
                                  "the files come from different runs")
