"""Sampled A-field coils: SimNIBS' NIfTI coil format (.nii, .nii.gz).

The image holds, on a regular grid in the coil's own frame, the vector potential A per ampere
of coil current (T·m/A, three components in the coil frame); its affine maps voxel indices to
coil-frame millimetres. As SimNIBS evaluates it (``simnibs/simulation/coil_numpy.py``,
``_get_field``): a point in head coordinates is taken into the coil frame by the inverse pose,
into voxel indices by the inverse affine, A is interpolated trilinearly there (zero outside the
grid), rotated back into head coordinates, and multiplied by dI/dt to give dA/dt.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError
from ..core.optional import require

#: a grid coil's image larger than this many voxels is refused before reading
#: (2e8 voxels × 3 components in float64 is 4.8 GB)
MAX_VOXELS = 200_000_000


@dataclasses.dataclass(frozen=True, eq=False)
class AFieldGrid:
    """A sampled vector potential: ``values`` (X, Y, Z, 3) T·m per A in the coil frame,
    ``affine`` (4, 4) voxel indices → coil frame (m), ``frame`` (4, 4) coil frame → head (m; the
    pose it has been moved by), ``scale`` the current (A, or A/s for dA/dt) it carries,
    ``stimulator`` the index of the stimulator driving it and ``part`` the coil part it belongs
    to (flexible coils, coils/deformation.py)."""
    values: np.ndarray
    affine: np.ndarray
    frame: np.ndarray = dataclasses.field(default_factory=lambda: np.eye(4))
    scale: float = 1.0
    stimulator: int = 0
    part: int = 0

    def transformed(self, matrix: np.ndarray) -> AFieldGrid:
        """This grid moved by a 4×4 rigid transform (m)."""
        return dataclasses.replace(self, frame=np.asarray(matrix, float) @ self.frame)

    def scaled(self, current: float) -> AFieldGrid:
        return dataclasses.replace(self, scale=self.scale * float(current))

    def potential(self, points) -> np.ndarray:
        """A (N, 3) at ``points`` (N, 3) m in head coordinates: trilinear in the grid, zero
        outside it, times :attr:`scale` (points on the grid's boundary count as inside even
        when the pose's round-off moves them out by 1e-9 voxel)."""
        from scipy.ndimage import map_coordinates
        points = np.asarray(points, float)
        to_voxels = np.linalg.inv(self.affine) @ np.linalg.inv(self.frame)
        voxels = to_voxels[:3, :3] @ points.T + to_voxels[:3, 3:]
        upper = np.array(self.values.shape[:3], float)[:, None] - 1
        on_edge = (voxels > -1e-9) & (voxels < upper + 1e-9)   # nodes on the boundary, moved by round-off
        voxels = np.where(on_edge, np.clip(voxels, 0, upper), voxels)
        local = np.stack([map_coordinates(self.values[..., k], voxels, order=1, mode="constant", cval=0.0)
                          for k in range(3)], axis=1)
        return self.scale * local @ self.frame[:3, :3].T

    @property
    def extent(self) -> np.ndarray:
        """(2, 3) coil-frame corners (m) of the grid."""
        corners = self.affine[:3, :3] @ np.array([[0, 0, 0], np.array(self.values.shape[:3]) - 1.0]).T
        ends = corners + self.affine[:3, 3:]
        return np.sort(ends, axis=1).T


def read_nifti_coil(path: str | os.PathLike) -> AFieldGrid:
    """The grid of a SimNIBS NIfTI coil (affine in mm, converted to m); named errors for files
    that are not such a grid."""
    nibabel = require("nibabel", extra="nifti", purpose="NIfTI (sampled A-field) coils")
    path = Path(path)
    try:
        image = nibabel.load(os.fspath(path))
        shape = image.shape
    except Exception as exc:   # nibabel raises many types for corrupt files
        raise FileFormatError(f"{path}: not a readable NIfTI coil ({type(exc).__name__}: {exc})") from None
    if len(shape) == 5 and shape[3] == 1:
        shape = shape[:3] + shape[4:]
    if len(shape) != 4 or shape[3] != 3 or min(shape[:3]) < 2:
        raise FileFormatError(f"{path}: a NIfTI coil holds A on a grid, shape (X, Y, Z, 3) with X, Y, Z >= 2; "
                              f"got {image.shape}")
    if np.prod(shape[:3]) > MAX_VOXELS:
        raise FileFormatError(f"{path}: {np.prod(shape[:3])} voxels is more than {MAX_VOXELS} (not a coil grid?)")
    try:
        values = np.asarray(image.dataobj, dtype=np.float64).reshape(shape)
    except Exception as exc:   # a truncated or corrupt payload fails only here (nibabel reads lazily)
        raise FileFormatError(f"{path}: the NIfTI coil's voxel data cannot be read ({type(exc).__name__}: "
                              f"{exc})") from None
    affine = np.array(image.affine, dtype=float)
    if not (np.isfinite(values).all() and np.isfinite(affine).all()) or abs(np.linalg.det(affine[:3, :3])) == 0:
        raise FileFormatError(f"{path}: the coil grid holds NaN/infinite values or a singular affine")
    affine[:3] *= 1e-3                                    # mm → m (rows of the voxel → position map)
    return AFieldGrid(values, affine)
