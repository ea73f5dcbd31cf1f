"""Repairing nested surfaces: crossings and too-close spots resolved by local, smooth vertex moves.

Real surface sets (FreeSurfer/Brainstorm BEM surfaces, SimNIBS) often have an inner surface
poking through, or coming within a fraction of a millimetre of, the next one out (an inner
skull crossing the outer skull at the skull base). :func:`repair_surfaces` works from the
outermost pair inwards: every vertex of the inner surface that lies less than ``min_gap``
inside the outer one is moved inwards along its vertex normal by what it lacks, and its
neighbours within ``falloff`` by a share that falls linearly with distance, so that the surface
bends smoothly instead of denting vertex by vertex; vertices farther away do not move. The
moves repeat (a few rounds) until the gap holds everywhere, then the pair is checked for
crossings, and the moved surface against the next one in. The outermost surface never moves.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.aabb import TriangleTree
from ..core.errors import MeshError
from .geometry import vertex_normals

#: rounds of moves per surface pair before giving up
MAX_ROUNDS = 30


@dataclasses.dataclass(frozen=True)
class SurfaceRepair:
    """What :func:`repair_surfaces` did to one surface: ``surface`` index (innermost 0),
    ``moved`` vertices, the ``largest`` and ``mean`` move of those (m), and ``where`` (3,) m the
    largest move happened (None when nothing moved)."""
    surface: int
    moved: int
    largest: float
    mean: float
    where: np.ndarray | None

    def __str__(self) -> str:
        if not self.moved:
            return f"surface {self.surface}: unchanged"
        return (f"surface {self.surface}: {self.moved} vertices moved inwards, up to {1e3 * self.largest:.2f} mm "
                f"(mean {1e3 * self.mean:.2f} mm), the most at {np.round(1e3 * self.where, 1).tolist()} mm")


def repair_surfaces(surfaces, min_gap: float = 0.0005, *, falloff: float | None = None):
    """Nested closed surfaces (innermost first; (vertices (n, 3) m, faces (k, 3)) outward, as
    :func:`~tmsfield.head_models.from_surfaces.nested_surfaces` orients them; inward ones are
    turned) with every surface at least ``min_gap`` (m) inside the next one out.

    ``falloff`` (m, default three mean edge lengths of the moved surface) is the radius over
    which a move tapers to zero. Returns (repaired surfaces, [SurfaceRepair per surface]).
    Raises MeshError when a surface lies mostly outside the next one (the order is wrong: give
    the surfaces innermost first) or a pair cannot be separated in :data:`MAX_ROUNDS` rounds.
    """
    from .from_surfaces import enclosed_volume, nested_surfaces
    from .surface_checks import check_closed
    if not (np.isfinite(min_gap) and min_gap >= 0):
        raise MeshError(f"min_gap must be a distance >= 0 in m, got {min_gap!r}")
    out = []
    for i, (v, f) in enumerate(surfaces):
        v, f = np.array(v, dtype=float), np.asarray(f, dtype=np.int64)
        check_closed(v, f, name=f"surface {i}")
        out.append((v, f if enclosed_volume(v, f) > 0 else f[:, ::-1]))      # outward, for the normals
    reports = [SurfaceRepair(len(out) - 1, 0, 0.0, 0.0, None)]
    for i in range(len(out) - 2, -1, -1):               # outermost pair first; the inner one moves
        original = out[i][0].copy()
        out[i] = (_pushed_inside(out[i], out[i + 1], min_gap, falloff, i), out[i][1])
        move = np.linalg.norm(out[i][0] - original, axis=1)
        moved = move > 0
        reports.insert(0, SurfaceRepair(i, int(moved.sum()), float(move.max()),
                                        float(move[moved].mean()) if moved.any() else 0.0,
                                        out[i][0][np.argmax(move)] if moved.any() else None))
    nested_surfaces(out)                                # crossings, self-intersections: named errors
    return out, reports


def _pushed_inside(inner, outer, min_gap, falloff, index) -> np.ndarray:
    """The inner surface's vertices moved so that all lie ``min_gap`` inside ``outer``."""
    from scipy.spatial import cKDTree
    v, f = inner[0].copy(), inner[1]
    edges = v[f[:, [1, 2, 0]]] - v[f]
    reach = 3 * np.linalg.norm(edges, axis=2).mean() if falloff is None else float(falloff)
    outer = TriangleTree(*outer)                                # signed distances: negative inside
    outside = outer.signed_distance(v) > 0
    if outside.mean() > 0.5:
        raise MeshError(f"surface {index} lies mostly outside surface {index + 1} ({100 * outside.mean():.0f} % of its "
                        "vertices): that is no local crossing to repair; give the surfaces innermost first")
    tree = cKDTree(v)
    for _ in range(MAX_ROUNDS):
        lack = outer.signed_distance(v) + min_gap               # > 0: too close or outside
        short = np.flatnonzero(lack > 1e-9)
        if not len(short):
            return v
        need = np.zeros(len(v))
        need[short] = lack[short] + 1e-6                        # a micron past the gap: no re-flag
        # taper each vertex's move to its neighbours within reach (the largest share wins)
        for s, near in zip(short, tree.query_ball_point(v[short], reach)):
            near = np.asarray(near)
            share = need[s] * np.clip(1 - np.linalg.norm(v[near] - v[s], axis=1) / reach, 0, 1)
            need[near] = np.maximum(need[near], share)
        v = v - need[:, None] * vertex_normals(v, f)
    raise MeshError(f"surface {index} could not be brought {1e3 * min_gap:g} mm inside surface {index + 1} in "
                    f"{MAX_ROUNDS} rounds ({len(short)} vertices still short, up to {1e3 * lack.max():.2f} mm): "
                    "is it really the inner one? (give the surfaces innermost first)")
