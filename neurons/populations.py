"""Populations: cells placed in the cortex of a head mesh, by relative depth and along the
local cortical normal.

The normal n at a pial-surface triangle centre c (grey matter facing CSF or the outside) is
the area-weighted mean of the outward pial normals within ``normal_radius``; the local
thickness t is the distance from c to the nearest GM/WM-interface triangle measured along
n, and a site at relative depth δ (0 pial, 1 white matter) is p = c − δ t n. Without GM/WM
(e.g. a sphere head) the outer surface stands in with a fixed ``thickness``. Sites outside grey
matter (or outside the mesh) are dropped and counted in the log.
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np

from ..core.errors import TmsFieldError
from ..head_models.geometry import triangle_normals
from .cable import Cable, Cells

log = logging.getLogger("tmsfield")


@dataclasses.dataclass
class CorticalSites:
    """``points`` (M, 3) m, outward unit ``normals`` (M, 3), relative ``depth`` (M,) of each site."""
    points: np.ndarray
    normals: np.ndarray
    depth: np.ndarray


def cortical_sites(head, *, depths=(0.5,), center=None, radius: float | None = None,
                   max_sites: int | None = None, thickness: float = 2.5e-3, gm_tag: int = 2,
                   wm_tag: int = 1, normal_radius: float = 3e-3, seed: int = 0) -> CorticalSites:
    """Sites in the cortex at relative ``depths`` (0 pial … 1 white matter) under pial
    triangles within ``radius`` (m) of ``center`` (m) (all if None), at most ``max_sites``
    surface positions (a seeded random subset). ``thickness`` (m) converts relative depth
    when the mesh has no GM/WM (outer-surface fallback); normals are area-weighted means of
    the surface normals within ``normal_radius`` (m)."""
    depths = np.atleast_1d(np.asarray(depths, dtype=float))
    if not np.isfinite(depths).all() or np.any((depths < 0) | (depths > 1)):
        raise TmsFieldError(f"relative depths must lie in [0, 1], got {depths.tolist()}")
    tris, lo, hi = head.interfaces()
    wm = tris[(lo == min(gm_tag, wm_tag)) & (hi == max(gm_tag, wm_tag))]
    pial = np.vstack([tris[((lo == gm_tag) | (hi == gm_tag)) & (lo != wm_tag) & (hi != wm_tag)],
                      head.outer_surface()[head.outer_surface_tags() == gm_tag]])
    has_cortex = len(wm) > 0 and len(pial) > 0
    surface = pial if has_cortex else head.outer_surface()
    centres = head.nodes[surface].mean(axis=1)
    pick = _select(centres, center, radius, max_sites, seed)
    c = centres[pick]
    normals = _smoothed_normals(head.nodes, surface, centres, pick, normal_radius)
    if has_cortex:
        from scipy.spatial import cKDTree
        wm_centres = head.nodes[wm].mean(axis=1)
        _, nearest = cKDTree(wm_centres).query(c)
        depth_m = np.maximum(np.einsum("ij,ij->i", c - wm_centres[nearest], normals), 0.0)
    else:
        log.info("no GM/WM interface in %r: placing cells under the outer surface (%.2g mm cortex)",
                 head.name, thickness * 1e3)
        depth_m = np.full(len(c), thickness)
    inner = c - depth_m[:, None] * normals
    points = c[None] + depths[:, None, None] * (inner - c)[None]          # (D, M, 3)
    depth = np.repeat(depths, len(c))
    points, normals = points.reshape(-1, 3), np.tile(normals, (len(depths), 1))
    element, _ = head.locate(points)
    keep = element >= 0
    if has_cortex:
        keep &= head.tags[np.maximum(element, 0)] == gm_tag
    if not keep.all():
        log.info("dropped %d of %d cortical sites outside grey matter / the mesh", int((~keep).sum()), len(keep))
    if not keep.any():
        raise TmsFieldError("no cortical site lies inside the mesh; check center/radius/depths")
    return CorticalSites(points[keep], normals[keep], depth[keep])


def place_in_cortex(cable: Cable, sites: CorticalSites, *, up=(0.0, 0.0, 1.0), azimuth=None) -> Cells:
    """Copies of ``cable`` with its local origin at each site and its local ``up`` axis along
    the outward cortical normal (e.g. ``up=(0, 0, -1)`` sends a ``myelinated_axon``, which
    runs along +z, down towards the white matter)."""
    return cable.place(sites.points, sites.normals, up=up, azimuth=azimuth)


def _smoothed_normals(nodes, surface, centres, pick, radius):
    from scipy.spatial import cKDTree
    normals, areas = triangle_normals(nodes, surface)
    weighted = normals * areas[:, None]
    near = cKDTree(centres).query_ball_point(centres[pick], r=radius)
    out = np.array([weighted[idx].sum(axis=0) for idx in near]).reshape(-1, 3)
    return out / np.linalg.norm(out, axis=1)[:, None]


def _select(centres, center, radius, max_sites, seed):
    pick = np.arange(len(centres))
    if radius is not None:
        if center is None:
            raise TmsFieldError("radius needs a center (m)")
        pick = pick[np.linalg.norm(centres - np.asarray(center, float), axis=1) <= radius]
    if max_sites is not None and len(pick) > max_sites:
        pick = np.sort(np.random.default_rng(seed).choice(pick, size=int(max_sites), replace=False))
    if not len(pick):
        raise TmsFieldError("no surface triangle within the given radius of the center")
    return pick
