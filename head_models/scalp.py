"""The head's outer surface (the scalp of a whole head), built once per head: exact closest
points, outward normals, signed distances and inside tests for coil placement."""
from __future__ import annotations

import numpy as np

from ..core.aabb import TriangleTree
from .geometry import triangle_normals


class ScalpSurface:
    """Outer boundary triangles of a head (outward, metres) with a cached AABB tree.

    ``vertices`` (n, 3) m and ``triangles`` (k, 3) indices into them, oriented outward.
    """

    def __init__(self, vertices: np.ndarray, triangles: np.ndarray):
        from scipy.spatial import cKDTree
        self.tree = TriangleTree(vertices, triangles)
        self.normals, self.areas = triangle_normals(self.tree.vertices, self.tree.triangles)
        self.centres = self.tree.vertices[self.tree.triangles].mean(axis=1)
        self._centre_tree = cKDTree(self.centres)

    @property
    def triangles(self) -> np.ndarray:
        return self.tree.triangles

    def distance(self, points) -> np.ndarray:
        """Unsigned distance (P,) m from ``points`` (P, 3) m to the surface."""
        return self.tree.closest(points)[0]

    def closest_point(self, point, normal_radius: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
        """Nearest surface point to ``point`` (3,) m, and the outward unit normal there,
        area-weighted over the triangles whose centres lie within ``normal_radius`` (m) of it,
        so that single facets do not tilt a coil."""
        _, triangle, closest = self.tree.closest(np.asarray(point, float)[None])
        near = self._centre_tree.query_ball_point(closest[0], normal_radius)
        near = np.union1d(near, triangle).astype(np.int64)
        normal = (self.areas[near, None] * self.normals[near]).sum(axis=0)
        return closest[0], normal / np.linalg.norm(normal)

    def signed_distance(self, points) -> np.ndarray:
        """Distance (P,) m of ``points`` (P, 3) m to the surface, negative inside the head."""
        return self.tree.signed_distance(points)

    def contains(self, points) -> np.ndarray:
        """Whether each of ``points`` (P, 3) m lies inside the surface, (P,) bool."""
        return self.signed_distance(points) < 0
