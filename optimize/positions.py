"""Candidate coil positions on the scalp around a target, with their base frames."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..coils.pose import CoilPose
from ..core.errors import PlacementError

GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


@dataclasses.dataclass(frozen=True, eq=False)
class ScalpPositions:
    """P coil positions. ``frames`` (P, 4, 4): base poses (matsimnibs convention, m) with z'
    along the inward scalp normal and y' along the reference handle direction projected on
    the scalp's tangent plane (handle angle 0); ``skin`` (P, 3) m the scalp points below the
    coil centres; ``normals`` (P, 3) outward unit normals there."""
    frames: np.ndarray
    skin: np.ndarray
    normals: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def centers(self) -> np.ndarray:
        """Coil centres (P, 3) m."""
        return self.frames[:, :3, 3]


def handle_rotation(angle: float) -> np.ndarray:
    """4×4 turn of the coil by ``angle`` (rad) about its own z' axis (x' towards y'): a base
    frame times this is the pose at that handle angle. z' points into the head, so seen from
    outside the head a positive angle turns the handle clockwise."""
    c, s = np.cos(angle), np.sin(angle)
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    return m


def scalp_positions(head, target, *, radius: float = 0.02, n_positions: int = 100, distance: float = 0.004,
                    handle=(0.0, 1.0, 0.0), normal_radius: float = 0.01) -> ScalpPositions:
    """``n_positions`` coil positions spread evenly (a sunflower pattern, the first at the
    centre) over a disc of ``radius`` (m) on the tangent plane at the scalp point nearest to
    ``target`` (3,) m, each projected onto the scalp, its normal averaged over
    ``normal_radius`` (m), the coil centre ``distance`` (m) out along it."""
    if not (np.isfinite(radius) and radius >= 0):
        raise PlacementError(f"search radius must be >= 0 m, got {radius}")
    if int(n_positions) < 1:
        raise PlacementError(f"need at least one position, got {n_positions}")
    if not (np.isfinite(distance) and distance >= 0):
        raise PlacementError(f"coil-scalp distance must be >= 0 m, got {distance}")
    n = int(n_positions) if radius > 0 else 1
    centre, outward = head.closest_surface_point(np.asarray(target, float))
    u = np.cross(outward, [1.0, 0.0, 0.0] if abs(outward[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(outward, u)
    k = np.arange(n)
    r = radius * np.sqrt(k / max(n - 1, 1))
    phi = k * GOLDEN_ANGLE
    frames, skin, normals = [], [], []
    ref = np.asarray(handle, float)
    for point in centre + r[:, None] * (np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * v):
        on_skin, normal = head.closest_surface_point(point, normal_radius)
        h = ref if np.linalg.norm(np.cross(ref, normal)) > 1e-3 * np.linalg.norm(ref) else np.cross(normal, u)
        frames.append(CoilPose.from_axes(on_skin + distance * normal, -normal, h).matrix)
        skin.append(on_skin)
        normals.append(normal)
    return ScalpPositions(np.stack(frames), np.stack(skin), np.stack(normals))
