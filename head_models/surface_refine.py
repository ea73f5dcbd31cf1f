"""Conforming refinement of triangle surfaces: marked triangles split in four (red), their
neighbours in two (green) where one edge of theirs was split, so no vertex hangs on an edge.

>>> import numpy as np
>>> vertices = np.array([[0., 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
>>> triangles = np.array([[0, 1, 2], [1, 3, 2]])
>>> v, t, parent = refine_triangles(vertices, triangles, np.array([True, False]))
>>> len(t), parent.tolist()      # four children of the first, two of its neighbour
(6, [0, 0, 0, 0, 1, 1])
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.errors import MeshError

#: local corner pairs of a triangle's edges: edge k runs from corner k to corner k+1
_EDGES = np.array([[0, 1], [1, 2], [2, 0]])


def refine_triangles(vertices: np.ndarray, triangles: np.ndarray, marked: np.ndarray,
                     project: Callable[[np.ndarray], np.ndarray] | None = None):
    """Split the ``marked`` (K,) bool triangles of (``vertices`` (N, 3) m, ``triangles`` (K, 3))
    into four at their edge midpoints; a triangle with two or three split edges is split into four
    too (repeated until none has two), one with one split edge into two from the opposite corner.
    Children keep their parent's orientation.

    project : optional callable mapping the new midpoints (n, 3) m onto the smooth surface the
        triangles approximate (e.g. a sphere); None keeps them on the flat triangles (the
        geometry is unchanged).
    Returns (vertices (N', 3), triangles (K', 3), parent (K',): each child's triangle index).
    """
    triangles = np.asarray(triangles, dtype=np.int64)
    marked = np.asarray(marked, dtype=bool)
    if marked.shape != (len(triangles),):
        raise MeshError(f"marked must be one bool per triangle ({len(triangles)}), got shape {marked.shape}")
    local = triangles[:, _EDGES]                                     # (K, 3, 2)
    edges, edge_of = np.unique(np.sort(local, axis=2).reshape(-1, 2), axis=0, return_inverse=True)
    edge_of = edge_of.reshape(-1, 3)
    split = np.zeros(len(edges), dtype=bool)
    split[edge_of[marked].ravel()] = True
    while True:                                                     # closure: two split edges make a red
        red = split[edge_of].sum(axis=1) >= 2
        grow = red & ~split[edge_of].all(axis=1)
        if not grow.any():
            break
        split[edge_of[grow].ravel()] = True
    midpoints = vertices[edges[split]].mean(axis=1)
    if project is not None and len(midpoints):
        midpoints = np.asarray(project(midpoints), dtype=float)
    new_index = np.full(len(edges), -1)
    new_index[split] = len(vertices) + np.arange(split.sum())
    mid = new_index[edge_of]                                         # (K, 3) midpoint of edge k, or -1
    n_split = split[edge_of].sum(axis=1)
    a, b, c = triangles.T
    m0, m1, m2 = mid.T
    children, parent = [triangles[n_split == 0]], [np.flatnonzero(n_split == 0)]
    red = np.flatnonzero(n_split == 3)
    for child in ((a, m0, m2), (m0, b, m1), (m2, m1, c), (m0, m1, m2)):
        children.append(np.stack([x[red] for x in child], axis=1))
        parent.append(red)
    for k in range(3):                                               # green: split edge k only
        green = np.flatnonzero((n_split == 1) & (mid[:, k] >= 0))
        v0, v1, v2 = (triangles[green, (k + j) % 3] for j in range(3))
        m = mid[green, k]
        children += [np.stack([v0, m, v2], axis=1), np.stack([m, v1, v2], axis=1)]
        parent += [green, green]
    parent = np.concatenate(parent)
    order = np.argsort(parent, kind="stable")
    return np.vstack([vertices, midpoints]), np.vstack(children)[order], parent[order]
