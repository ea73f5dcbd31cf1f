"""Coil casings: the surface of the housing around a coil's windings (SimNIBS .tcd
``coilModels``), used to keep the housing out of the head and to draw the coil.

A casing is a triangle surface plus two optional point sets: ``min_distance_points``, the
points of the housing that should touch the head (the bottom face), and ``intersect_points``,
those that must not enter it. Where a file gives neither, the surface's vertices serve for both.
Every vertex and point belongs to a *part* (coils/deformation.py), so that a flexible coil's
wings carry their housing with them.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.errors import CoilError
from .coil import _indices, _vectors
from .deformation import move_parts


@dataclasses.dataclass(frozen=True, eq=False)
class CoilCasing:
    """Housing surface and contact points of a coil (m, coil or head frame).

    Attributes
    ----------
    vertices : (V, 3) m.     faces : (F, 3) vertex indices.     vertex_part : (V,) part index.
    min_distance_points : (M, 3) m, with ``min_distance_part`` (M,).
    intersect_points : (I, 3) m, with ``intersect_part`` (I,).
    """
    vertices: np.ndarray
    faces: np.ndarray
    vertex_part: np.ndarray | None = None
    min_distance_points: np.ndarray | None = None
    min_distance_part: np.ndarray | None = None
    intersect_points: np.ndarray | None = None
    intersect_part: np.ndarray | None = None

    def __post_init__(self):
        s = lambda k, v: object.__setattr__(self, k, v)
        s("vertices", _vectors("vertices", self.vertices, "casing"))
        faces = np.asarray(self.faces, dtype=np.int64).reshape(-1, 3)
        if len(faces) and (faces.min() < 0 or faces.max() >= len(self.vertices)):
            raise CoilError(f"coil casing: face indices must lie in 0..{len(self.vertices) - 1}")
        s("faces", faces)
        s("vertex_part", _indices(self.vertex_part, len(self.vertices), "part index", "casing"))
        for name in ("min_distance", "intersect"):
            points = _vectors(f"{name} points", getattr(self, f"{name}_points"), "casing")
            s(f"{name}_points", points)
            s(f"{name}_part", _indices(getattr(self, f"{name}_part"), len(points), "part index", "casing"))

    def contact_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(points (M, 3) m, part (M,)) that should lie on the head: the min-distance points, or
        the vertices where the casing has none."""
        if len(self.min_distance_points):
            return self.min_distance_points, self.min_distance_part
        return self.vertices, self.vertex_part

    def clearance_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(points (I, 3) m, part (I,)) that must stay outside the head: the intersect points, or
        the vertices and min-distance points where the casing has none."""
        if len(self.intersect_points):
            return self.intersect_points, self.intersect_part
        return (np.vstack([self.vertices, self.min_distance_points]),
                np.concatenate([self.vertex_part, self.min_distance_part]))

    def transformed(self, matrix: np.ndarray) -> CoilCasing:
        """This casing moved by one rigid 4×4 ``matrix`` (m)."""
        return self.moved(np.asarray(matrix, float)[None], all_parts=True)

    def moved(self, matrices: np.ndarray, *, all_parts: bool = False) -> CoilCasing:
        """This casing with each part moved by its own 4×4 matrix ``matrices[part]`` (or all by
        ``matrices[0]`` when ``all_parts``)."""
        def move(points, part):
            return move_parts(matrices, points, np.zeros(len(points), dtype=np.int64) if all_parts else part)
        return dataclasses.replace(
            self, vertices=move(self.vertices, self.vertex_part),
            min_distance_points=move(self.min_distance_points, self.min_distance_part),
            intersect_points=move(self.intersect_points, self.intersect_part))

    @staticmethod
    def merge(casings: list[tuple[CoilCasing, int]]) -> CoilCasing | None:
        """One casing from ``(casing, part)`` pairs, each casing's points assigned to ``part``."""
        if not casings:
            return None
        verts, faces, vparts, md, mdp, ip, ipp = [], [], [], [], [], [], []
        offset = 0
        for casing, part in casings:
            verts.append(casing.vertices), faces.append(casing.faces + offset)
            offset += len(casing.vertices)
            vparts.append(np.full(len(casing.vertices), part))
            md.append(casing.min_distance_points), mdp.append(np.full(len(casing.min_distance_points), part))
            ip.append(casing.intersect_points), ipp.append(np.full(len(casing.intersect_points), part))
        return CoilCasing(np.vstack(verts), np.vstack(faces), np.concatenate(vparts), np.vstack(md),
                          np.concatenate(mdp), np.vstack(ip), np.concatenate(ipp))
