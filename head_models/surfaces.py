"""Boundary and interface triangles of tetrahedral meshes; inside/outside tests."""
from __future__ import annotations

import numpy as np

from ..core.aabb import TriangleTree
from .geometry import TET_FACES, row_keys


def _face_table(tets: np.ndarray):
    """All faces of ``tets`` (4M, 3) oriented outward from their tetrahedron, the owner row of
    each, the face indices ordered so that copies of one face are adjacent (4M,), and for each
    position in that order whether it starts a new face (4M,) bool.

    One sort of an int64 key per face (:func:`~.geometry.row_keys`: three node indices packed
    into 63 bits) when the mesh has fewer than 2²¹ nodes, else a lexicographic sort of the rows:
    4.4M faces in 1.1 s where ``np.unique(axis=0)`` took 8 s."""
    faces = tets[:, TET_FACES].reshape(-1, 3)
    owner = np.repeat(np.arange(len(tets)), 4)
    rows = np.sort(faces, axis=1)
    keys, exact = row_keys(rows, int(tets.max()) + 1 if len(tets) else 1)
    if exact:
        order = np.argsort(keys, kind="stable")
        starts = np.empty(len(order), dtype=bool)
        starts[:1] = True
        np.not_equal(keys[order[1:]], keys[order[:-1]], out=starts[1:])
    else:
        order = np.lexsort(rows.T[::-1])
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = (rows[order[1:]] != rows[order[:-1]]).any(axis=1)
    return faces, owner, order, starts


def _single(starts: np.ndarray) -> np.ndarray:
    """Whether each sorted position holds a face that occurs once (its group has one member)."""
    ends = np.append(starts[1:], True)
    return starts & ends


def boundary_faces(tets: np.ndarray):
    """Faces of ``tets`` (M, 4) that belong to a single tetrahedron: (K, 3) oriented outward,
    and the row of ``tets`` each belongs to, (K,)."""
    faces, owner, order, starts = _face_table(tets)
    once = np.sort(order[_single(starts)])
    return faces[once], owner[once]


def face_ids(tets: np.ndarray) -> np.ndarray:
    """A number per distinct face, (M, 4): entry [m, f] numbers m's face ``TET_FACES[f]`` (the
    face opposite local vertex f); a face shared by two tetrahedra has one number in both."""
    _, _, order, starts = _face_table(tets)
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.cumsum(starts) - 1
    return out.reshape(-1, 4)


def tet_faces(tets: np.ndarray, tags: np.ndarray):
    """Classify all tetrahedron faces.

    Returns ``(outer, outer_tag, inner, tag_lo, tag_hi)``: ``outer`` (K, 3) boundary faces
    oriented outward with the tag of their element; ``inner`` (L, 3) faces between two
    different tags, oriented from the lower tag ``tag_lo`` towards ``tag_hi``.
    """
    faces, owner, order, starts = _face_table(tets)
    single = _single(starts)
    once = np.sort(order[single])
    outer = faces[once]
    outer_tag = tags[owner[once]]

    # faces shared by two tetrahedra sit in adjacent pairs of the sorted order (no face has three:
    # HeadMesh refuses such meshes, quality.check_shared_faces)
    paired = order[~single]
    first, second = paired[0::2], paired[1::2]
    t1, t2 = tags[owner[first]], tags[owner[second]]
    differ = t1 != t2
    first, second, t1, t2 = first[differ], second[differ], t1[differ], t2[differ]
    lower_first = t1 < t2
    inner = np.where(lower_first[:, None], faces[first], faces[second])
    return outer, outer_tag, inner, np.minimum(t1, t2), np.maximum(t1, t2)


def winding_number(points: np.ndarray, nodes: np.ndarray, triangles: np.ndarray,
                   chunk: int = 2_000_000) -> np.ndarray:
    """Generalised winding number of closed, outward-oriented ``triangles`` at ``points``.

    ≈1 inside, ≈0 outside (Van Oosterom–Strackee solid angles). Shape (P,).
    Memory is bounded by ``chunk`` point×triangle pairs per step.
    """
    tri = nodes[triangles]
    out = np.empty(len(points))
    step = max(1, chunk // max(len(triangles), 1))
    for s in range(0, len(points), step):
        r = tri[None] - points[s:s + step, None, None, :]          # (p, K, 3, 3)
        n = np.linalg.norm(r, axis=-1)
        num = np.einsum("pki,pki->pk", r[:, :, 0], np.cross(r[:, :, 1], r[:, :, 2]))
        den = (n[..., 0] * n[..., 1] * n[..., 2]
               + np.einsum("pki,pki->pk", r[:, :, 0], r[:, :, 1]) * n[..., 2]
               + np.einsum("pki,pki->pk", r[:, :, 1], r[:, :, 2]) * n[..., 0]
               + np.einsum("pki,pki->pk", r[:, :, 2], r[:, :, 0]) * n[..., 1])
        out[s:s + step] = 2.0 * np.arctan2(num, den).sum(axis=1) / (4.0 * np.pi)
    return out


def closest_points_on_triangles(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Closest point to each point (P, 3) on each of its triangles (P, C, 3 corners, 3) → (P, C, 3).

    The projection onto the triangle's plane where it falls inside the triangle, else the
    nearest point on its three edges."""
    p = points[:, None, :]
    a, b, c = corners[:, :, 0], corners[:, :, 1], corners[:, :, 2]
    normal = np.cross(b - a, c - a)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-300)
    projected = p - np.einsum("pci,pci->pc", p - a, normal)[..., None] * normal
    inside = np.ones(projected.shape[:2], dtype=bool)
    best = projected
    best_distance = np.full(projected.shape[:2], np.inf)
    for start, end, other in ((a, b, c), (b, c, a), (c, a, b)):
        edge = end - start
        # the projection is inside when it lies on the same side of every edge as the third corner
        inside &= np.einsum("pci,pci->pc", np.cross(edge, projected - start), np.cross(edge, other - start)) >= 0
        t = np.clip(np.einsum("pci,pci->pc", p - start, edge) / np.maximum(np.einsum("pci,pci->pc", edge, edge),
                                                                            1e-300), 0.0, 1.0)
        on_edge = start + t[..., None] * edge
        distance = np.linalg.norm(p - on_edge, axis=-1)
        nearer = distance < best_distance
        best = np.where(nearer[..., None], on_edge, best)
        best_distance = np.where(nearer, distance, best_distance)
    return np.where(inside[..., None], projected, best)


def point_distances(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Distance (P, C) m from each point (P, 3) to each of its triangles (P, C, 3 corners, 3)."""
    return np.linalg.norm(closest_points_on_triangles(points, corners) - points[:, None], axis=-1)


def outer_boundary(nodes, tets) -> np.ndarray:
    """Outer boundary triangles (K, 3) of the region ``tets`` (M, 4), oriented outward: its boundary
    faces without the walls of enclosed cavities (e.g. ventricles), which face into the cavity and
    so enclose a negative volume."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    faces, _ = boundary_faces(tets)
    edges = faces[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(nodes),) * 2)
    component = connected_components(graph, directed=False)[1][faces[:, 0]]
    p = nodes[faces]
    enclosed = np.bincount(component, weights=np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])))
    return faces[enclosed[component] > 0]


def midsurface(nodes, inner_triangles, outer_triangles, accept=None, candidates: int = 16):
    """Surface halfway between two surfaces: each vertex of ``inner_triangles`` moved halfway
    to its closest point on ``outer_triangles`` — among the ``candidates`` triangles with the
    nearest centroids, the closest whose midpoint ``accept`` (points (P, 3) → bool (P,))
    takes, else the closest. Returns (vertices (n, 3), triangles (k, 3))."""
    from scipy.spatial import cKDTree
    used, tris = np.unique(inner_triangles, return_inverse=True)
    k = min(candidates, len(outer_triangles))
    _, near = cKDTree(nodes[outer_triangles].mean(axis=1)).query(nodes[used], k=k)
    near = near.reshape(len(used), k)
    closest = closest_points_on_triangles(nodes[used], nodes[outer_triangles[near]])     # (n, k, 3)
    order = np.argsort(np.linalg.norm(closest - nodes[used][:, None], axis=-1), axis=1)
    mids = 0.5 * (nodes[used][:, None, :] + np.take_along_axis(closest, order[..., None], axis=1))
    choice = np.zeros(len(used), dtype=np.int64)
    if accept is not None:
        ok = accept(mids.reshape(-1, 3)).reshape(len(used), k)
        choice = np.where(ok.any(axis=1), ok.argmax(axis=1), 0)
    return mids[np.arange(len(used)), choice], tris.reshape(-1, 3)


def inside_surface(points: np.ndarray, nodes: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Whether each point (P, 3) lies inside the closed outward surface ``triangles``, (P,) bool
    (signed distance by an AABB tree and pseudo-normals, :class:`tmsfield.core.aabb.TriangleTree`)."""
    return TriangleTree(nodes, triangles).signed_distance(points) < 0
