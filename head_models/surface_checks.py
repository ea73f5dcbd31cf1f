"""Checks on closed triangle surfaces: open edges, orientation, self-intersection, crossings."""
from __future__ import annotations

import numpy as np

from ..core.errors import MeshError

_EDGES = np.array([[0, 1], [1, 2], [2, 0]])


def _mm(point) -> list:
    return np.round(1e3 * np.asarray(point), 2).tolist()


def check_closed(vertices: np.ndarray, faces: np.ndarray, name: str = "surface") -> None:
    """Raise MeshError unless ``faces`` (K, 3) form a closed, consistently oriented 2-manifold
    without degenerate triangles: every edge shared by exactly two faces, in opposite directions."""
    p = vertices[faces]
    area2 = np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    bad = np.flatnonzero(area2 <= 1e-12 * max(area2.max(initial=0.0), 1e-300))
    if len(bad):
        raise MeshError(f"{name}: {len(bad)} degenerate (zero-area) triangle(s), e.g. triangle {bad[0]}")
    directed = faces[:, _EDGES].reshape(-1, 2)
    undirected, counts = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    if (counts != 2).any():
        open_edges = undirected[counts == 1]
        kind = (f"open: {len(open_edges)} boundary edge(s)" if len(open_edges)
                else "not a 2-manifold: edges shared by more than two triangles")
        edge = (open_edges if len(open_edges) else undirected[counts > 2])[0]
        raise MeshError(f"{name} is {kind}, e.g. the edge between vertices {edge[0]} and {edge[1]} at "
                        f"{_mm(vertices[edge[0]])} mm; BEM and tetrahedralisation need closed surfaces")
    same_way, counts = np.unique(directed, axis=0, return_counts=True)
    if (counts > 1).any():
        edge = same_way[counts > 1][0]
        faces_on = np.flatnonzero((directed == edge).all(axis=1)) // 3
        raise MeshError(f"{name} is inconsistently oriented: triangles {faces_on[:2].tolist()} both run along "
                        f"the edge {edge.tolist()} in the same direction (at {_mm(vertices[edge[0]])} mm)")


def segments_cross_triangles(starts, ends, corners) -> np.ndarray:
    """Whether segment p crosses triangle p (Möller–Trumbore), for pairs (P, 3), (P, 3),
    (P, 3, 3) → bool (P,). Segments lying in a triangle's plane count as not crossing."""
    a = corners[:, 0]
    e1, e2 = corners[:, 1] - a, corners[:, 2] - a
    d = ends - starts
    pvec = np.cross(d, e2)
    det = np.einsum("pi,pi->p", e1, pvec)
    scale = np.linalg.norm(d, axis=1) * np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1)
    ok = np.abs(det) > 1e-12 * scale
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    tvec = starts - a
    u = np.einsum("pi,pi->p", tvec, pvec) * inv
    qvec = np.cross(tvec, e1)
    v = np.einsum("pi,pi->p", d, qvec) * inv
    t = np.einsum("pi,pi->p", e2, qvec) * inv
    return ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1)


def _bounding_spheres(vertices, faces):
    corners = vertices[faces]
    centres = corners.mean(axis=1)
    return corners, centres, np.linalg.norm(corners - centres[:, None], axis=2).max(axis=1)


def intersecting_pairs(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Pairs (n, 2) of triangles that cross each other without sharing a vertex.

    Candidates come from overlapping bounding spheres; a pair crosses when an edge of one
    passes through the other. Triangles sharing a vertex are not tested."""
    from scipy.spatial import cKDTree
    corners, centres, radius = _bounding_spheres(vertices, faces)
    pairs = cKDTree(centres).query_pairs(2 * radius.max(), output_type="ndarray")
    i, j = pairs.T
    close = np.linalg.norm(centres[i] - centres[j], axis=1) <= radius[i] + radius[j]
    i, j = i[close], j[close]
    shared = (faces[i][:, :, None] == faces[j][:, None, :]).any(axis=(1, 2))
    i, j = i[~shared], j[~shared]
    hit = np.zeros(len(i), dtype=bool)
    for first, second in ((i, j), (j, i)):
        for a, b in _EDGES:
            hit |= segments_cross_triangles(vertices[faces[first, a]], vertices[faces[first, b]], corners[second])
    return np.stack([i[hit], j[hit]], axis=1)


def check_no_self_intersections(vertices: np.ndarray, faces: np.ndarray, name: str = "surface") -> None:
    """Raise MeshError naming the first pair of triangles that cross each other."""
    pairs = intersecting_pairs(vertices, faces)
    if len(pairs):
        a, b = pairs[0]
        raise MeshError(f"{name} intersects itself: {len(pairs)} crossing triangle pair(s), e.g. triangles "
                        f"{a} and {b} near {_mm(vertices[faces[a]].mean(axis=0))} mm")


def segments_crossing(starts, ends, vertices, faces) -> np.ndarray:
    """Indices of the segments (S, 3)→(S, 3) that cross any of the triangles ``faces``."""
    from scipy.spatial import cKDTree
    corners, centres, radius = _bounding_spheres(vertices, faces)
    mids, half = 0.5 * (starts + ends), 0.5 * np.linalg.norm(ends - starts, axis=1)
    near = cKDTree(centres).query_ball_point(mids, r=half + radius.max())
    counts = np.fromiter((len(n) for n in near), dtype=np.int64, count=len(near))
    if not counts.sum():
        return np.zeros(0, dtype=np.int64)
    seg = np.repeat(np.arange(len(near)), counts)
    tri = np.concatenate([np.asarray(n, dtype=np.int64) for n in near if n])
    hit = segments_cross_triangles(starts[seg], ends[seg], corners[tri])
    return np.unique(seg[hit])
