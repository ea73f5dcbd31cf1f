"""Interfaces: the oriented triangles between compartments, with the conductivity on each side."""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import numpy as np

from ...core.errors import MeshError
from ...head_models.from_surfaces import nested_surfaces
from ...head_models.geometry import triangle_normals
from ...head_models.tissues import check_override_tags, conductivity_table, tissue_name

#: tag of the space outside the head (conductivity 0)
AIR = 0


@dataclasses.dataclass(frozen=True, eq=False)
class Interfaces:
    """Closed triangle surfaces separating compartments of constant conductivity.

    vertices : (N, 3) m.   triangles : (K, 3), normals (right-hand rule) pointing from the
    inner compartment into the outer one.   tag_in, tag_out : (K,) tissue tag on each side
    (0 = air).   sigma_in, sigma_out : (K,) conductivity (S/m) on each side.
    """
    vertices: np.ndarray
    triangles: np.ndarray
    tag_in: np.ndarray
    tag_out: np.ndarray
    sigma_in: np.ndarray
    sigma_out: np.ndarray
    name: str = "interfaces"

    @classmethod
    def from_head(cls, head, conductivities: Mapping[int, float] | None = None) -> Interfaces:
        """Interfaces of a tissue-tagged HeadMesh: faces between tags of different
        conductivity and the outer boundary (air outside), per-tag conductivities as the FEM."""
        inner, lo, hi = head.interfaces()
        outer = head.outer_surface()
        outer_tag = head.outer_surface_tags()
        triangles = np.vstack([inner, outer])
        tag_in = np.concatenate([lo, outer_tag])
        tag_out = np.concatenate([hi, np.full(len(outer), AIR)])
        table = _table(np.concatenate([tag_in, tag_out]), conductivities)
        sigma_in, sigma_out = table[tag_in], table[tag_out]
        keep = sigma_in != sigma_out
        used, compact = np.unique(triangles[keep], return_inverse=True)
        return cls(head.nodes[used], compact.reshape(-1, 3), tag_in[keep], tag_out[keep],
                   sigma_in[keep], sigma_out[keep], name=head.name)

    @classmethod
    def from_surfaces(cls, surfaces: Sequence, tags: Sequence[int],
                      conductivities: Mapping[int, float] | None = None, name: str = "surfaces") -> Interfaces:
        """Nested closed surfaces, innermost first (e.g. inner skull, outer skull, scalp):
        surfaces[i] = (vertices (n, 3) m, faces (k, 3) 0-based); tags[i] names the compartment
        inside surfaces[i] (and outside surfaces[i-1]). Conductivities per tag as for the FEM.
        Raises MeshError for open, inconsistently oriented, self-intersecting or crossing surfaces."""
        if len(surfaces) != len(tags) or not len(surfaces):
            raise MeshError(f"need one tag per surface: {len(surfaces)} surfaces, {len(tags)} tags")
        surfaces = nested_surfaces(surfaces)
        tags = [int(t) for t in tags]
        table = _table(np.array(tags + [AIR]), conductivities)
        vertices, triangles, tag_in, tag_out, offset = [], [], [], [], 0
        for i, (v, f) in enumerate(surfaces):
            vertices.append(v)
            triangles.append(f + offset)
            offset += len(v)
            tag_in.append(np.full(len(f), tags[i]))
            tag_out.append(np.full(len(f), tags[i + 1] if i + 1 < len(tags) else AIR))
        tag_in, tag_out = np.concatenate(tag_in), np.concatenate(tag_out)
        return cls(np.vstack(vertices), np.vstack(triangles), tag_in, tag_out, table[tag_in], table[tag_out],
                   name=name)

    def refined(self, marked: np.ndarray, project=None) -> tuple[Interfaces, np.ndarray]:
        """These interfaces with the ``marked`` (K,) facets split in four and the closure that keeps
        the surfaces conforming (head_models/surface_refine.py); children keep their parent's tags
        and conductivities. ``project``: optional callable moving new vertices (n, 3) m onto the
        smooth surfaces (None: they stay on the flat facets). Returns (Interfaces, parent (K',))."""
        from ...head_models.surface_refine import refine_triangles
        vertices, triangles, parent = refine_triangles(self.vertices, self.triangles, marked, project)
        return Interfaces(vertices, triangles, self.tag_in[parent], self.tag_out[parent], self.sigma_in[parent],
                          self.sigma_out[parent], name=self.name), parent

    # --- geometry ---------------------------------------------------------------------
    @property
    def n_facets(self) -> int:
        return len(self.triangles)

    @functools.cached_property
    def corners(self) -> np.ndarray:
        """Vertex coordinates of every facet, (K, 3, 3) m."""
        return self.vertices[self.triangles]

    @functools.cached_property
    def centroids(self) -> np.ndarray:
        """Facet centroids (collocation points), (K, 3) m."""
        return self.corners.mean(axis=1)

    @functools.cached_property
    def _normals_areas(self):
        return triangle_normals(self.vertices, self.triangles)

    @property
    def normals(self) -> np.ndarray:
        """Unit normals (K, 3), from the inner into the outer compartment."""
        return self._normals_areas[0]

    @property
    def areas(self) -> np.ndarray:
        """Facet areas (K,) in m²."""
        return self._normals_areas[1]

    @functools.cached_property
    def sizes(self) -> np.ndarray:
        """Longest edge of each facet (K,) in m."""
        c = self.corners
        return np.linalg.norm(c - np.roll(c, 1, axis=1), axis=2).max(axis=1)

    @property
    def mean_edge_length(self) -> float:
        """Mean facet edge length (m)."""
        c = self.corners
        return float(np.linalg.norm(c - np.roll(c, 1, axis=1), axis=2).mean())

    @property
    def kappa(self) -> np.ndarray:
        """Conductivity contrast κ = (σin − σout)/(σin + σout) per facet, (K,)."""
        return (self.sigma_in - self.sigma_out) / (self.sigma_in + self.sigma_out)

    def outer_triangles(self) -> np.ndarray:
        """Facets with air outside, (L, 3) indices into ``vertices``."""
        return self.triangles[self.tag_out == AIR]

    def summary(self) -> str:
        """One line per interface: tissues on both sides, facet count, mean edge."""
        lines = [f"Interfaces {self.name!r}: {self.n_facets} facets, mean edge {1e3 * self.mean_edge_length:.2f} mm"]
        pairs = np.stack([self.tag_in, self.tag_out], axis=1)
        for a, b in np.unique(pairs, axis=0):
            sel = (self.tag_in == a) & (self.tag_out == b)
            outside = "air" if b == AIR else tissue_name(int(b))
            lines.append(f"  {tissue_name(int(a))} | {outside}: {sel.sum()} facets, "
                         f"σ {self.sigma_in[sel][0]:.4g} | {self.sigma_out[sel][0]:.4g} S/m")
        return "\n".join(lines)


def _table(tags: np.ndarray, conductivities) -> np.ndarray:
    """Lookup array tag → S/m for the given tags (air 0), with clear errors for unknown tags."""
    check_override_tags(conductivities, set(int(t) for t in tags) - {AIR})
    table = conductivity_table(conductivities)
    table[AIR] = 0.0
    unknown = sorted({int(t) for t in tags} - set(table))
    if unknown:
        raise MeshError(f"no conductivity for tissue tag(s) {unknown}; pass conductivities={{tag: S/m}}")
    lookup = np.zeros(max(table) + 1)
    for tag, sigma in table.items():
        lookup[tag] = sigma
    return lookup
