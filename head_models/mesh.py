"""HeadMesh: a tissue-tagged tetrahedral head model in metres."""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import numpy as np

from ..core.aabb import TetrahedronTree
from ..core.errors import MeshError
from . import quality
from .geometry import barycentric_gradients, edge_lengths
from .locate import locate_points
from .scalp import ScalpSurface
from .surfaces import midsurface, tet_faces
from .tissues import GREY_MATTER, WHITE_MATTER, element_conductivity, tissue_name


@dataclasses.dataclass(frozen=True, eq=False)
class HeadMesh:
    """Tetrahedral head model.

    Attributes
    ----------
    nodes : (N, 3) float64, metres.
    tets : (M, 4) int, 0-based node indices, positively oriented.
    tags : (M,) int, SimNIBS tissue tag per tetrahedron.
    triangles, triangle_tags : optional (K, 3) / (K,) surface triangles (SimNIBS 1000+tag).
    name : label used in summaries and provenance.
    """
    nodes: np.ndarray
    tets: np.ndarray
    tags: np.ndarray
    triangles: np.ndarray | None = None
    triangle_tags: np.ndarray | None = None
    name: str = "head"

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        set_("nodes", np.ascontiguousarray(self.nodes, dtype=np.float64))
        set_("tets", np.ascontiguousarray(self.tets, dtype=np.int64))
        set_("tags", np.ascontiguousarray(self.tags, dtype=np.int64).reshape(-1))
        quality.check_arrays(self.nodes, self.tets, self.tags)
        if self.triangles is None:
            set_("triangles", np.zeros((0, 3), dtype=np.int64))
            set_("triangle_tags", np.zeros(0, dtype=np.int64))
        else:
            set_("triangles", np.ascontiguousarray(self.triangles, dtype=np.int64).reshape(-1, 3))
            tri_tags = self.triangle_tags
            if tri_tags is None:
                tri_tags = np.zeros(len(self.triangles), dtype=np.int64)
            set_("triangle_tags", np.ascontiguousarray(tri_tags, dtype=np.int64).reshape(-1))
            if len(self.triangle_tags) != len(self.triangles):
                raise MeshError("need one tag per surface triangle")
            quality.check_indices(self.triangles, len(self.nodes), "triangles")
        set_("_volumes", quality.check_tetrahedra(self.nodes, self.tets))
        quality.check_referenced(len(self.nodes), self.tets)
        quality.check_topology(self.nodes, self.tets)

    # --- sizes and geometry -------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_tets(self) -> int:
        return len(self.tets)

    @property
    def volumes(self) -> np.ndarray:
        """Tetrahedron volumes (m³), shape (M,)."""
        return self._volumes

    @functools.cached_property
    def centroids(self) -> np.ndarray:
        """Tetrahedron centroids (m), shape (M, 3)."""
        return self.nodes[self.tets].mean(axis=1)

    @functools.cached_property
    def basis_gradients(self) -> np.ndarray:
        """Gradients of the 4 barycentric (P1) functions per tetrahedron, (M, 4, 3) in 1/m."""
        return barycentric_gradients(self.nodes, self.tets)[0]

    @functools.cached_property
    def element_tree(self) -> TetrahedronTree:
        """AABB tree of the tetrahedra for point location, built on first use (2.6 s for 1.1M)."""
        return TetrahedronTree(self.nodes, self.tets)

    def locate(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Containing tetrahedron (P,) and barycentric coordinates (P, 4) of ``points`` (P, 3) m.

        Points outside the mesh get element -1 and NaN coordinates.
        """
        return locate_points(self, np.asarray(points, dtype=float))

    @functools.cached_property
    def mean_edge_length(self) -> float:
        """Mean length of the unique tetrahedron edges (m)."""
        return float(edge_lengths(self.nodes, self.tets).mean())

    @property
    def tissue_tags(self) -> list[int]:
        """Sorted distinct volume tags."""
        return [int(t) for t in np.unique(self.tags)]

    def conductivity(self, conductivities: Mapping[int, float] | None = None) -> np.ndarray:
        """Per-tetrahedron conductivity (S/m), shape (M,): SimNIBS defaults, then overrides."""
        return element_conductivity(self.tags, conductivities)

    # --- surfaces -----------------------------------------------------------------------
    @functools.cached_property
    def _faces(self):
        return tet_faces(self.tets, self.tags)

    def outer_surface(self) -> np.ndarray:
        """Boundary triangles (K, 3) of the whole mesh, oriented outward."""
        return self._faces[0]

    def outer_surface_tags(self) -> np.ndarray:
        """Tissue tag (K,) of the tetrahedron behind each :meth:`outer_surface` triangle."""
        return self._faces[1]

    def interfaces(self):
        """Triangles between different tissues.

        Returns ``(triangles, tag_lo, tag_hi)``: (L, 3) faces oriented from the tissue with the
        lower tag into the one with the higher tag (for SimNIBS heads: inner to outer).
        """
        _, _, inner, lo, hi = self._faces
        return inner, lo, hi

    def grey_matter_midsurface(self, gm_tag: int = GREY_MATTER, wm_tag: int = WHITE_MATTER):
        """Surface halfway between the white-matter/grey-matter interface and the outer
        grey-matter boundary (where TMS effects are usually read out): each WM/GM vertex
        moves halfway to its closest point on the outer GM boundary (the closest whose
        midpoint lies in grey matter).

        Returns (vertices (n, 3) in m, triangles (k, 3)). Raises MeshError when the mesh has no
        GM/WM interface (then sample on a surface of your own instead).
        """
        tris, lo, hi = self.interfaces()
        inner = tris[(lo == min(gm_tag, wm_tag)) & (hi == max(gm_tag, wm_tag))]
        gm_side = (lo == gm_tag) | (hi == gm_tag)
        outer = np.vstack([tris[gm_side & ~((lo == wm_tag) | (hi == wm_tag))],
                           self.outer_surface()[self.outer_surface_tags() == gm_tag]])
        if not len(inner) or not len(outer):
            raise MeshError(f"no interface between tags {wm_tag} and {gm_tag}, or no outer grey-matter "
                            "boundary: this head has no grey-matter mid-surface")
        def in_grey_matter(points):
            element, _ = self.locate(points)
            return (element >= 0) & (self.tags[np.maximum(element, 0)] == gm_tag)

        return midsurface(self.nodes, inner, outer, accept=in_grey_matter)

    @functools.cached_property
    def scalp(self) -> ScalpSurface:
        """The outer surface with its search tree, built on first use: closest points, normals,
        inside tests (coil placement)."""
        return ScalpSurface(self.nodes, self.outer_surface())

    def closest_surface_point(self, point, normal_radius: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
        """Nearest point on the outer surface to ``point`` (m) and the outward unit normal
        there, averaged (area-weighted) over the surface within ``normal_radius`` (m) so that
        single facets do not tilt the coil."""
        return self.scalp.closest_point(point, normal_radius)

    def contains(self, points) -> np.ndarray:
        """Whether each point (P, 3) in metres lies inside the head's outer surface."""
        return self.scalp.contains(points)

    # --- editing ------------------------------------------------------------------------
    def remove_unreferenced_nodes(self) -> HeadMesh:
        """Same mesh without nodes that belong to no tetrahedron."""
        return compact_nodes(self.nodes, self.tets, self.tags, self.triangles,
                             self.triangle_tags, self.name)

    def summary(self) -> str:
        """Short multi-line description: counts, size, tissues."""
        lo, hi = self.nodes.min(axis=0), self.nodes.max(axis=0)
        lines = [(f"HeadMesh {self.name!r}: {self.n_nodes} nodes, {self.n_tets} tetrahedra, "
                 f"{len(self.triangles)} surface triangles"),
                 f"  extent {1e3 * (hi - lo).round(6)} mm, mean edge {1e3 * self.mean_edge_length:.2f} mm"]
        for tag in self.tissue_tags:
            sel = self.tags == tag
            lines.append(f"  tag {tag:>3} {tissue_name(tag):<14} {sel.sum():>9} tets "
                         f"{1e6 * self.volumes[sel].sum():10.2f} cm³")
        return "\n".join(lines)


def compact_nodes(nodes, tets, tags, triangles=None, triangle_tags=None, name="head") -> HeadMesh:
    """Build a HeadMesh keeping only nodes used by tetrahedra; triangles on dropped nodes go."""
    used = np.zeros(len(nodes), dtype=bool)
    used[np.asarray(tets).ravel()] = True
    new_index = np.cumsum(used) - 1
    if triangles is not None and len(triangles):
        keep = used[triangles].all(axis=1)
        triangles, triangle_tags = new_index[triangles[keep]], np.asarray(triangle_tags)[keep]
    return HeadMesh(np.asarray(nodes)[used], new_index[tets], tags, triangles, triangle_tags, name)
