"""Point location in a tetrahedral mesh: containing element and barycentric coordinates."""
from __future__ import annotations

import numpy as np

#: candidate tetrahedra tried per point (nearest centroids first), in widening rounds
CANDIDATES = (8, 64, 512)
#: barycentric coordinates down to -INSIDE_TOL count as inside (points on faces)
INSIDE_TOL = 1e-9


def locate_points(head, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """See :meth:`HeadMesh.locate`."""
    points = np.atleast_2d(points)
    tree = head.centroid_tree
    grads, centroids = head.basis_gradients, head.centroids
    element = np.full(len(points), -1, dtype=np.int64)
    bary = np.full((len(points), 4), np.nan)
    todo = np.arange(len(points))
    for k in CANDIDATES:
        if not len(todo):
            break
        k = min(k, head.n_tets)
        _, cand = tree.query(points[todo], k=k)
        cand = cand.reshape(len(todo), k)
        lam = 0.25 + np.einsum("pkij,pkj->pki", grads[cand], points[todo, None, :] - centroids[cand])
        inside = lam.min(axis=2) >= -INSIDE_TOL
        found = inside.any(axis=1)
        first = inside.argmax(axis=1)
        hit = todo[found]
        element[hit] = cand[found, first[found]]
        bary[hit] = lam[found, first[found]]
        todo = todo[~found]
        if k == head.n_tets:
            break
    return element, bary
