"""Coil placement in the SimNIBS ``matsimnibs`` convention.

A pose is a 4×4 matrix whose columns are the coil axes x', y' (handle), z' (into the head) and
the coil centre, in head coordinates. Here the translation is in metres; SimNIBS files use mm.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, PlacementError
from ..core.units import length_scale

#: tolerance on RᵀR = I and det R = 1
ORTHONORMAL_TOL = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class CoilPose:
    """Rigid placement of a coil: ``matrix`` (4, 4), rotation columns x', y', z' and centre (m)."""
    matrix: np.ndarray

    def __post_init__(self):
        m = np.array(self.matrix, dtype=np.float64)
        if m.shape != (4, 4) or not np.isfinite(m).all():
            raise PlacementError(f"pose must be a finite 4x4 matrix, got shape {m.shape}")
        rot = m[:3, :3]
        if (np.abs(rot.T @ rot - np.eye(3)).max() > ORTHONORMAL_TOL
                or abs(np.linalg.det(rot) - 1) > ORTHONORMAL_TOL
                or np.abs(m[3] - [0, 0, 0, 1]).max() > ORTHONORMAL_TOL):
            raise PlacementError("pose rotation must be orthonormal and right-handed "
                                 "(columns x', y', z'), last row [0, 0, 0, 1]")
        object.__setattr__(self, "matrix", m)

    @property
    def center(self) -> np.ndarray:
        """Coil centre (m)."""
        return self.matrix[:3, 3].copy()

    @property
    def handle(self) -> np.ndarray:
        """Unit handle direction y'."""
        return self.matrix[:3, 1].copy()

    @property
    def normal(self) -> np.ndarray:
        """Unit axis z', pointing into the head."""
        return self.matrix[:3, 2].copy()

    @classmethod
    def from_axes(cls, center, normal, handle) -> CoilPose:
        """Pose at ``center`` (m) with z' along ``normal`` (into the head) and y' along the
        part of ``handle`` orthogonal to it."""
        z = _unit(normal, "normal")
        y = np.asarray(handle, float) - np.dot(handle, z) * z
        if np.linalg.norm(y) < 1e-9 * max(np.linalg.norm(handle), 1e-300):
            raise PlacementError("handle direction is parallel to the coil axis")
        y = _unit(y, "handle")
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = np.cross(y, z), y, z, center
        return cls(m)

    @classmethod
    def on_head(cls, head, center, handle=(0.0, 1.0, 0.0), distance: float = 0.004) -> CoilPose:
        """Place the coil over the scalp point nearest to ``center`` (m), ``distance`` (m)
        from the skin along the outward normal, z' into the head, y' towards ``handle``."""
        if not np.isfinite(distance) or distance < 0:
            raise PlacementError(f"coil-scalp distance must be >= 0 m, got {distance}")
        point, outward = head.closest_surface_point(np.asarray(center, float))
        return cls.from_axes(point + distance * outward, -outward, handle)

    @classmethod
    def from_matsimnibs(cls, matrix, units: str = "mm") -> CoilPose:
        """Pose from a SimNIBS ``matsimnibs`` 4×4 matrix whose translation is in ``units``."""
        m = np.array(matrix, dtype=float)
        if m.shape != (4, 4):
            raise PlacementError(f"matsimnibs must be 4x4, got shape {m.shape}")
        m[:3, 3] *= length_scale(units)
        return cls(m)

    @classmethod
    def load(cls, path: str | os.PathLike, units: str = "mm") -> CoilPose:
        """Read a whitespace-separated 4×4 ``matsimnibs`` text file (translation in ``units``)."""
        path = Path(path)
        try:
            m = np.loadtxt(path, ndmin=2)
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"{path}: cannot read a 4x4 matrix ({exc})") from exc
        try:
            return cls.from_matsimnibs(m, units)
        except PlacementError as exc:
            raise PlacementError(f"{path}: {exc}") from exc

    def to_matsimnibs(self, units: str = "mm") -> np.ndarray:
        """The 4×4 matrix with its translation in ``units``."""
        m = self.matrix.copy()
        m[:3, 3] /= length_scale(units)
        return m


def _unit(v, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if v.shape != (3,) or not np.isfinite(n) or n == 0:
        raise PlacementError(f"{what} must be a non-zero 3-vector, got {v}")
    return v / n


def check_outside(head, coil, pose: CoilPose) -> None:
    """Raise :class:`PlacementError` if any coil element lies inside the head."""
    points = coil.transformed(pose.matrix).source_points()
    inside = head.contains(points)
    if inside.any():
        raise PlacementError(
            f"coil {coil.name!r} is inside the scalp: {inside.sum()} of {len(points)} coil "
            f"elements lie within the head (e.g. at {np.round(1e3 * points[inside][0], 2)} mm); "
            "move the coil out or increase the coil-scalp distance")
