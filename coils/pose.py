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
#: a handle closer than this to the coil axis (degrees) leaves the coil's rotation undefined
MIN_HANDLE_AXIS_ANGLE_DEG = 5.0
#: coil centres (and requested positions) farther than this from the scalp (m) are refused: the
#: usual cause is millimetres given to an argument in metres (a coil sits 0-10 mm above the skin)
MAX_SCALP_DISTANCE = 0.030


@dataclasses.dataclass(frozen=True, eq=False)
class CoilPose:
    """Rigid placement of a coil: ``matrix`` (4, 4), rotation columns x', y', z' and centre (m)."""
    matrix: np.ndarray

    def __post_init__(self):
        m = np.array(self.matrix, dtype=np.float64)
        if m.shape != (4, 4):
            raise PlacementError(f"pose must be a 4x4 matrix, got shape {m.shape}")
        if not np.isfinite(m).all():
            raise PlacementError(f"pose must be finite, got {m.tolist()}")
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
        handle = _unit(handle, "handle")
        angle = np.degrees(np.arccos(min(1.0, abs(float(np.dot(handle, z))))))
        if angle < MIN_HANDLE_AXIS_ANGLE_DEG:
            raise PlacementError(f"handle direction {np.round(handle, 4).tolist()} is (nearly) parallel to the "
                                 f"coil axis: {angle:.2g}° from "
                                 f"{np.round(z, 4).tolist()} (at least {MIN_HANDLE_AXIS_ANGLE_DEG:g}° needed): "
                                 "give a handle direction along the scalp, e.g. towards the back of the head")
        y = _unit(handle - np.dot(handle, z) * z, "handle")
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = np.cross(y, z), y, z, center
        return cls(m)

    @classmethod
    def on_head(cls, head, center, handle=(0.0, 1.0, 0.0), distance: float = 0.004,
                handle_angle_deg: float = 0.0) -> CoilPose:
        """Place the coil over the scalp point nearest to ``center`` (m), ``distance`` (m)
        from the skin along the outward normal, z' into the head, y' towards ``handle`` turned by
        ``handle_angle_deg`` (:meth:`turned`).

        Raises PlacementError when ``center`` is more than :data:`MAX_SCALP_DISTANCE` from the
        scalp or ``distance`` exceeds it (both usually millimetres given as metres)."""
        distance = _finite_number(distance, "distance")
        if not 0 <= distance <= MAX_SCALP_DISTANCE:
            raise PlacementError(f"coil-scalp distance must be 0-{1e3 * MAX_SCALP_DISTANCE:g} mm, got {distance:g} m"
                                 + _mm_hint(distance))
        center = _point(center, "center")
        offset = float(head.scalp.distance(center)[0])
        if offset > MAX_SCALP_DISTANCE:
            raise PlacementError(f"center {center.tolist()} m is {1e3 * offset:.1f} mm from the scalp of "
                                 f"{head.name!r} (at most {1e3 * MAX_SCALP_DISTANCE:g} mm): give a point on or "
                                 "near the scalp, in metres" + _mm_hint(np.abs(center).max()))
        point, outward = head.closest_surface_point(center)
        return cls.from_axes(point + distance * outward, -outward, handle).turned(handle_angle_deg)

    def turned(self, angle_deg: float) -> CoilPose:
        """This pose with the coil turned about its own axis by ``angle_deg``: the handle moves
        counter-clockwise as seen from outside the head (right-handed about the outward normal −z')."""
        angle = np.radians(_finite_number(angle_deg, "handle angle (degrees)"))
        c, s = np.cos(angle), np.sin(angle)
        turn = np.eye(4)
        turn[:2, :2] = [[c, s], [-s, c]]          # about z' by −angle: counter-clockwise about −z'
        return CoilPose(self.matrix @ turn)

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
        m = _read_matrix_text(path)
        try:
            return cls.from_matsimnibs(m, units)
        except PlacementError as exc:
            raise PlacementError(f"{path}: {exc}") from exc

    def to_matsimnibs(self, units: str = "mm") -> np.ndarray:
        """The 4×4 matrix with its translation in ``units``."""
        m = self.matrix.copy()
        m[:3, 3] /= length_scale(units)
        return m


#: a 4×4 matsimnibs text file is a few hundred bytes; larger files are not pose files
MAX_POSE_FILE_BYTES = 1 << 16


def _read_matrix_text(path: Path) -> np.ndarray:
    """The 4×4 matrix of a whitespace-separated text file ('#' comments, blank lines allowed);
    FileFormatError naming the file and line for anything else."""
    hint = "; a pose file holds 4 lines of 4 numbers (SimNIBS matsimnibs, translation in mm)"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_POSE_FILE_BYTES + 1)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc})") from None
    if len(raw) > MAX_POSE_FILE_BYTES:
        raise FileFormatError(f"{path}: larger than {MAX_POSE_FILE_BYTES} bytes, not a pose matrix" + hint)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileFormatError(f"{path}, line {line} (byte offset {exc.start}): not UTF-8 text (a binary file?)"
                              + hint) from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        try:
            row = [float(f) for f in fields]
        except ValueError:
            raise FileFormatError(f"{path}, line {number}: not numbers: {line.strip()[:60]!r}" + hint) from None
        if len(row) != 4:
            raise FileFormatError(f"{path}, line {number}: expected 4 numbers, found {len(row)}" + hint)
        if not np.isfinite(row).all():
            raise FileFormatError(f"{path}, line {number}: NaN or infinite value" + hint)
        rows.append(row)
    if len(rows) != 4:
        raise FileFormatError(f"{path}: expected 4 rows of numbers, found {len(rows)}"
                              + (" (empty file)" if not rows else "") + hint)
    return np.array(rows)


def _mm_hint(value: float) -> str:
    return " (did you give mm to a metres argument? 95 mm is 0.095)" if value > 1.0 else ""


def _finite_number(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number (m), got {value!r}") from None
    if not np.isfinite(value):
        raise PlacementError(f"{what} must be finite, got {value}")
    return value


def _point(value, what: str) -> np.ndarray:
    p = np.asarray(value, dtype=float)
    if p.shape != (3,) or not np.isfinite(p).all():
        raise PlacementError(f"{what} must be three finite coordinates (m), got {value!r}")
    return p


def _unit(v, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if v.shape != (3,) or not np.isfinite(n) or n == 0:
        raise PlacementError(f"{what} must be a non-zero 3-vector, got {v}")
    return v / n


def as_pose(pose, what: str = "pose") -> CoilPose:
    """``pose`` as a CoilPose: a CoilPose itself or a 4×4 matrix in metres (validated).

    Anything else is a TypeError naming ``what``; a matrix in mm is caught later by
    :func:`check_placement` (its centre lies metres from the scalp)."""
    if isinstance(pose, CoilPose):
        return pose
    if pose is None or isinstance(pose, (str, os.PathLike)) or np.shape(pose) != (4, 4):
        raise TypeError(f"{what} must be a CoilPose (tf.CoilPose.on_head(head, center=...) or "
                        "tf.CoilPose.load('matsimnibs.txt')) or a 4x4 matrix in metres, got "
                        + (repr(pose) if pose is None or isinstance(pose, (str, os.PathLike))
                           else f"{type(pose).__name__} of shape {np.shape(pose)}"))
    try:
        return CoilPose(pose)
    except PlacementError as exc:
        raise PlacementError(f"{what}: {exc}") from None


def check_placement(head, coil, pose: CoilPose) -> None:
    """Raise :class:`PlacementError` if the whole coil is more than :data:`MAX_SCALP_DISTANCE`
    from the head's scalp (its nearest element: large coils such as a double cone may hold their
    centre farther out) or any coil element lies inside the head."""
    center = pose.center
    points = coil.transformed(pose.matrix).source_points()
    distance = head.scalp.signed_distance(np.vstack([center, points]))     # one tree for both checks
    offset, inside = float(distance[0]), distance[1:] < 0
    nearest = float(distance[1:].min()) if len(points) else offset
    if nearest > MAX_SCALP_DISTANCE:
        raise PlacementError(
            f"coil centre {np.round(1e3 * center, 2).tolist()} mm is {1e3 * offset:.1f} mm from the scalp of "
            f"{head.name!r}, its nearest element {1e3 * nearest:.1f} mm (at most {1e3 * MAX_SCALP_DISTANCE:g} mm): "
            "the field would be near zero" + _mm_hint(np.abs(center).max())
            + "; pass check_placement=False to place it there anyway")
    if inside.any():
        raise PlacementError(
            f"coil {coil.name!r} is inside the scalp: {inside.sum()} of {len(points)} coil "
            f"elements lie within the head (e.g. at {np.round(1e3 * points[inside][0], 2)} mm); "
            "move the coil out or increase the coil-scalp distance"
            + ("; a flexible coil is fitted to the head unless fit=False (--no-fit)" if coil.is_flexible else
               "; or let the fit move it out: simulate(..., fit=FitOptions()) (--fit)"))
