"""MNI ↔ subject coordinates through a SimNIBS subject folder's ``toMNI/`` transformations.

The conventions, as SimNIBS' own coordinate transforms read them (``simnibs/utils/
transformations.py``, SimNIBS 3 and 4):

- ``toMNI/MNI2Conform_nonl.nii.gz`` (``charm``): a deformation field on a grid in MNI space (the
  image affine maps voxel indices to MNI mm) whose three components are, at each voxel, the
  subject coordinates (mm) of that MNI point. MNI → subject is its trilinear interpolation at
  the MNI point. ``toMNI/Conform2MNI_nonl.nii.gz`` is the same on a subject grid, holding MNI
  coordinates: subject → MNI.
- ``toMNI/MNI2conform_12DOF.txt`` / ``MNI2conform_6DOF.txt`` (``headreco``, SimNIBS 3): a 4×4
  matrix taking MNI mm to subject mm; its inverse goes back.

SimNIBS clamps points outside a field's grid to its edge; here they are an error naming the
point and the field's extent. MNI coordinates are in mm (as everyone gives them); subject
coordinates are returned and taken in metres, as everywhere in tmsfield.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np

from ..core.checks import check_choice
from ..core.errors import FileFormatError, TmsFieldError
from ..core.optional import require

#: transformation kinds, as SimNIBS names them
KINDS = ("nonl", "12dof", "6dof")
#: file names in ``toMNI/`` per kind and direction
FILES = {"nonl": ("MNI2Conform_nonl.nii.gz", "Conform2MNI_nonl.nii.gz"),
         "12dof": ("MNI2conform_12DOF.txt", None), "6dof": ("MNI2conform_6DOF.txt", None)}


@dataclasses.dataclass(frozen=True, eq=False)
class DeformationField:
    """A deformation field: ``values`` (X, Y, Z, 3) target coordinates (mm) on the grid whose
    ``affine`` (4, 4) maps voxel indices to source coordinates (mm); ``path`` names it in errors."""
    values: np.ndarray
    affine: np.ndarray
    path: Path

    @classmethod
    def read(cls, path: str | os.PathLike) -> DeformationField:
        """Read a NIfTI deformation field (X, Y, Z, 3) or (X, Y, Z, 1, 3), as SimNIBS writes them."""
        nibabel = require("nibabel", extra="nifti", purpose="MNI transformations")
        path = Path(path)
        try:
            image = nibabel.load(os.fspath(path))
            values = np.asarray(image.dataobj, dtype=np.float64)
        except Exception as exc:   # nibabel raises many types for missing or corrupt files
            raise FileFormatError(f"{path}: not a readable NIfTI deformation field ({exc})") from None
        if values.ndim == 5 and values.shape[3] == 1:            # SimNIBS writes (X, Y, Z, 1, 3)
            values = values[:, :, :, 0]
        if values.ndim != 4 or values.shape[3] != 3 or min(values.shape[:3]) < 2:
            raise FileFormatError(f"{path}: a deformation field has shape (X, Y, Z, 3) with X, Y, Z >= 2, "
                                  f"got {np.shape(image.dataobj)}")
        if not np.isfinite(values).all() or not np.isfinite(image.affine).all():
            raise FileFormatError(f"{path}: the deformation field holds NaN or infinite values")
        return cls(values, np.asarray(image.affine, float), path)

    def __call__(self, points_mm) -> np.ndarray:
        """Target coordinates (N, 3) mm of source points (N, 3) mm, by trilinear interpolation."""
        from scipy.ndimage import map_coordinates
        points = np.atleast_2d(np.asarray(points_mm, float))
        voxels = (np.linalg.inv(self.affine) @ np.c_[points, np.ones(len(points))].T)[:3]       # (3, N)
        upper = np.array(self.values.shape[:3], float)[:, None] - 1
        outside = ((voxels < -1e-6) | (voxels > upper + 1e-6)).any(axis=0)
        if outside.any():
            corners = self.affine[:3, :3] @ np.array([[0, 0, 0], upper[:, 0]]).T + self.affine[:3, 3:]
            lo, hi = corners.min(axis=1), corners.max(axis=1)
            raise TmsFieldError(f"{np.round(points[outside][0], 2).tolist()} mm is outside the field of view of "
                                f"{self.path.name} ({np.round(lo, 1).tolist()} to {np.round(hi, 1).tolist()} mm): "
                                "MNI coordinates are in mm, e.g. M1 near (-37, -21, 58)")
        voxels = np.clip(voxels, 0, upper)
        return np.stack([map_coordinates(self.values[..., k], voxels, order=1) for k in range(3)], axis=1)


def _affine(path: Path) -> np.ndarray:
    try:
        matrix = np.loadtxt(path, dtype=float)
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{path}: expected a 4×4 matrix of numbers ({exc})") from None
    if matrix.shape != (4, 4) or not np.isfinite(matrix).all() or not np.allclose(matrix[3], [0, 0, 0, 1]):
        raise FileFormatError(f"{path}: expected a 4×4 affine matrix with last row 0 0 0 1, got shape {matrix.shape}")
    return matrix


@dataclasses.dataclass(frozen=True, eq=False)
class MNITransform:
    """The MNI transformation of one subject folder (see the module docstring), of ``kind``."""
    folder: Path
    kind: str

    def _file(self, direction: int) -> Path:
        name = FILES[self.kind][direction] or FILES[self.kind][0]
        path = self.folder / "toMNI" / name
        if not path.is_file():
            folder = self.folder / "toMNI"
            present = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
            raise FileFormatError(f"{self.folder}: no toMNI/{name} for the {self.kind!r} MNI transformation"
                                  + (f"; toMNI/ holds {present}" if present else " (charm writes toMNI/ with the "
                                     "subject's MNI transformations)"))
        return path

    @functools.cached_property
    def _to_subject(self):
        """mm → mm map MNI → subject, read on first use (a deformation field can be ~100 MB)."""
        if self.kind == "nonl":
            return DeformationField.read(self._file(0))
        matrix = _affine(self._file(0))
        return lambda points: points @ matrix[:3, :3].T + matrix[:3, 3]

    @functools.cached_property
    def _to_mni(self):
        """mm → mm map subject → MNI, read on first use."""
        if self.kind == "nonl":
            return DeformationField.read(self._file(1))
        inverse = np.linalg.inv(_affine(self._file(0)))
        return lambda points: points @ inverse[:3, :3].T + inverse[:3, 3]

    def to_subject(self, mni_mm) -> np.ndarray:
        """Subject coordinates (N, 3) m of MNI coordinates ``mni_mm`` (N, 3) or (3,) mm."""
        return 1e-3 * self._to_subject(_points(mni_mm, "MNI coordinates (mm)"))

    def to_mni(self, subject_m) -> np.ndarray:
        """MNI coordinates (N, 3) mm of subject coordinates ``subject_m`` (N, 3) or (3,) m."""
        return self._to_mni(1e3 * _points(subject_m, "subject coordinates (m)"))


def _points(values, what: str) -> np.ndarray:
    points = np.atleast_2d(np.asarray(values, dtype=float))
    if points.ndim != 2 or points.shape[1] != 3 or not np.isfinite(points).all():
        raise TmsFieldError(f"{what} must be finite with shape (3,) or (N, 3), got {np.shape(values)}")
    return points


def mni_transform(folder: str | os.PathLike, kind: str = "auto") -> MNITransform:
    """The MNI transformation of the subject folder ``folder``: ``kind`` "nonl" (SimNIBS 4's
    deformation fields), "12dof" or "6dof" (SimNIBS 3's affines), or "auto" (nonl where its
    field is present, else 12dof)."""
    folder = Path(folder)
    if kind == "auto":
        kind = "nonl" if (folder / "toMNI" / FILES["nonl"][0]).is_file() else "12dof"
    check_choice(kind, KINDS, "MNI transformation")
    return MNITransform(folder, kind)
