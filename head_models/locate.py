"""Point location in a tetrahedral mesh: containing element and barycentric coordinates."""
from __future__ import annotations

import numpy as np

#: points located per step: bounds the temporary (CHUNK, 4, 3) gathers to ~100 MB
CHUNK = 1_000_000


def locate_points(head, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """See :meth:`HeadMesh.locate`: containing element (P,) by the head's cached AABB tree
    (:attr:`HeadMesh.element_tree`), and barycentric coordinates (P, 4) from the element's P1
    basis gradients; -1 and NaN outside the mesh."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    element = np.full(len(points), -1, dtype=np.int64)
    bary = np.full((len(points), 4), np.nan)
    for start in range(0, len(points), CHUNK):
        chunk = slice(start, start + CHUNK)
        found = head.element_tree.find(points[chunk])
        element[chunk] = found
        hit = np.flatnonzero(found >= 0)
        e = found[hit]
        bary[start + hit] = 0.25 + np.einsum("pij,pj->pi", head.basis_gradients[e],
                                             points[start + hit] - head.centroids[e])
    return element, bary
