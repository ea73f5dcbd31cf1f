"""Tetrahedron geometry: signed volumes, gradients of barycentric functions, faces."""
from __future__ import annotations

import numpy as np

#: Faces of a positively oriented tetrahedron, each ordered so its normal points outward;
#: row i is the face opposite vertex i.
TET_FACES = np.array([[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]])


def signed_volumes(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Signed volumes (m³), shape (M,), positive for right-handed vertex order."""
    p = nodes[tets]
    d = p[:, 1:] - p[:, :1]
    return np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0


def barycentric_gradients(nodes: np.ndarray, tets: np.ndarray):
    """Gradients of the four P1 basis functions per tetrahedron.

    Returns ``(grads, volumes)`` with ``grads`` of shape (M, 4, 3) in 1/m and
    ``volumes`` of shape (M,) in m³ (signed). Uses the cofactor form of the inverse Jacobian
    (rows d2×d3, d3×d1, d1×d2 over det), much faster than batched LAPACK inverses.
    """
    p = nodes[tets]
    d1, d2, d3 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    rows = np.stack([np.cross(d2, d3), np.cross(d3, d1), np.cross(d1, d2)], axis=1)
    det = np.einsum("ij,ij->i", d1, rows[:, 0])
    rows /= det[:, None, None]
    grads = np.concatenate([-rows.sum(axis=1, keepdims=True), rows], axis=1)
    return grads, det / 6.0


def edge_lengths(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Lengths (m) of the unique edges of a tetrahedral mesh, shape (E,)."""
    edges = unique_edges(tets)
    return np.linalg.norm(nodes[edges[:, 1]] - nodes[edges[:, 0]], axis=1)


#: the six edges of a tetrahedron as pairs of local vertices
TET_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])


def unique_edges(tets: np.ndarray, return_inverse: bool = False):
    """Unique edges (E, 2) (sorted node pairs) of a tetrahedral mesh, in TET_EDGES order per
    element; with ``return_inverse`` also the edge index of each element edge (M, 6)."""
    pairs = np.sort(tets[:, TET_EDGES], axis=2).reshape(-1, 2).astype(np.int64)
    base = int(tets.max()) + 1
    keys = pairs[:, 0] * base + pairs[:, 1]                                  # one int64 per edge
    if not return_inverse:
        return np.stack(np.divmod(_sorted_unique(keys), base), axis=1)
    unique, inverse = unique_with_inverse(keys)
    return np.stack(np.divmod(unique, base), axis=1), inverse.reshape(-1, 6)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    unique = np.sort(keys)
    return unique[np.concatenate([[True], unique[1:] != unique[:-1]])]


def unique_with_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique values of an integer array and the index of each input among them
    (np.unique(..., return_inverse=True), several times faster on millions of int64)."""
    unique = _sorted_unique(keys)
    return unique, np.searchsorted(unique, keys)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def row_keys(rows: np.ndarray, base: int) -> tuple[np.ndarray, bool]:
    """One int64/uint64 key per row of non-negative ints below ``base``, rows sorted within;
    exact (a packed number) when base**k < 2**63, else a hash (equal rows, equal keys)."""
    k = rows.shape[1]
    if base ** k < 2**63:
        key = rows[:, 0].copy()
        for col in range(1, k):
            key *= base
            key += rows[:, col]
        return key, True
    key = rows[:, 0].astype(np.uint64)
    with np.errstate(over="ignore"):
        for col in range(1, k):
            key *= _MIX
            key ^= key >> np.uint64(29)
            key += rows[:, col].astype(np.uint64)
    return key, False


def triangle_normals(nodes: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (K, 3) and areas (K,) in m² of triangles (right-hand rule)."""
    p = nodes[triangles]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    twice_area = np.linalg.norm(n, axis=1)
    return n / np.where(twice_area > 0, twice_area, 1.0)[:, None], 0.5 * twice_area


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray, normals: np.ndarray | None = None) -> np.ndarray:
    """Area-weighted unit normals (n, 3) at the ``vertices`` of ``triangles`` (k, 3), from the
    triangles' unit ``normals`` (k, 3) (default: their winding's, :func:`triangle_normals`)."""
    own, areas = triangle_normals(vertices, triangles)
    normals = own if normals is None else normals
    out = np.zeros_like(vertices, dtype=float)
    for corner in range(3):
        np.add.at(out, triangles[:, corner], areas[:, None] * normals)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-300)
