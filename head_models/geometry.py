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
    ``volumes`` of shape (M,) in m³ (signed).
    """
    p = nodes[tets]
    jac = (p[:, 1:] - p[:, :1]).transpose(0, 2, 1)      # columns are edge vectors
    inv = np.linalg.inv(jac)                             # rows are grad λ1..λ3
    grads = np.concatenate([-inv.sum(axis=1, keepdims=True), inv], axis=1)
    return grads, np.linalg.det(jac) / 6.0


def edge_lengths(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Lengths (m) of the unique edges of a tetrahedral mesh, shape (E,)."""
    pairs = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
    edges = np.sort(tets[:, pairs].reshape(-1, 2), axis=1)
    edges = np.unique(edges, axis=0)
    return np.linalg.norm(nodes[edges[:, 1]] - nodes[edges[:, 0]], axis=1)


def triangle_normals(nodes: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (K, 3) and areas (K,) in m² of triangles (right-hand rule)."""
    p = nodes[triangles]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    twice_area = np.linalg.norm(n, axis=1)
    return n / np.where(twice_area > 0, twice_area, 1.0)[:, None], 0.5 * twice_area
