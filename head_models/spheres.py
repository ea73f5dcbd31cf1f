"""Concentric-sphere head models meshed with gmsh."""
from __future__ import annotations

import logging

import numpy as np

from ..core.errors import MeshError
from .geometry import signed_volumes
from .gmsh_session import gmsh_session, tagged_tetrahedra
from .mesh import HeadMesh, compact_nodes

log = logging.getLogger("tmsfield")


def concentric_spheres(radii=(0.085, 0.090, 0.095), tags=(3, 4, 5), edge_length=0.006, *,
                       center=(0.0, 0.0, 0.0), seed: int = 0, verbose: bool = False) -> HeadMesh:
    """Tetrahedral mesh of nested spheres.

    Parameters
    ----------
    radii : increasing outer radii of the layers (m); layer i is the shell between
        ``radii[i-1]`` and ``radii[i]`` (the first is a full ball).
    tags : tissue tag per layer (SimNIBS numbering: 3 CSF, 4 bone, 5 scalp, ...).
    edge_length : target tetrahedron edge length (m).
    center : sphere centre (m).
    seed : gmsh random seed (meshes are reproducible for a given seed and gmsh version).
    """
    radii = _checked_radii(radii, tags, edge_length)
    with gmsh_session(verbose) as gmsh:
        occ = gmsh.model.occ
        balls = [occ.addSphere(*center, r) for r in radii]
        occ.fragment([(3, balls[-1])], [(3, b) for b in balls[:-1]])
        occ.synchronize()
        volume_tags = {}
        for dim, ent in gmsh.model.getEntities(3):
            xmin, _, _, xmax, _, _ = gmsh.model.getBoundingBox(dim, ent)
            outer_r = 0.5 * (xmax - xmin)
            layer = int(np.argmin(np.abs(radii - outer_r)))
            volume_tags[ent] = int(tags[layer])
        gmsh.option.setNumber("Mesh.MeshSizeMax", edge_length)
        gmsh.option.setNumber("Mesh.MeshSizeMin", 0.5 * edge_length)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.option.setNumber("Mesh.RandomSeed", seed)
        gmsh.option.setNumber("Mesh.Optimize", 1)
        gmsh.model.mesh.generate(3)
        nodes, tets, tet_tags = tagged_tetrahedra(gmsh, volume_tags)
    flip = signed_volumes(nodes, tets) < 0
    tets[flip] = tets[flip][:, [0, 2, 1, 3]]
    head = compact_nodes(nodes, tets, tet_tags, name=f"spheres {np.round(radii * 1e3, 3).tolist()} mm")
    log.info("meshed %d-layer sphere: %d nodes, %d tetrahedra", len(radii), head.n_nodes, head.n_tets)
    return head


def _checked_radii(radii, tags, edge_length) -> np.ndarray:
    radii = np.asarray(radii, dtype=float)
    if len(radii) != len(tags) or len(radii) == 0:
        raise MeshError(f"need one tag per radius: {len(radii)} radii, {len(tags)} tags")
    if np.any(radii <= 0) or np.any(np.diff(radii) <= 0):
        raise MeshError(f"radii must be positive and increasing, got {radii.tolist()}")
    if not 0 < edge_length < radii[-1]:
        raise MeshError(f"edge_length must be in (0, {radii[-1]}) m, got {edge_length}")
    return radii


def sphere_surfaces(radii=(0.085, 0.090, 0.095), edge_length=0.006, *, center=(0.0, 0.0, 0.0),
                    seed: int = 0, verbose: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Triangulated spheres (gmsh), innermost first, for surface (BEM) models:
    [(vertices (n, 3) m, faces (k, 3) outward)] with triangle edges ≈ ``edge_length`` (m)."""
    radii = _checked_radii(radii, radii, edge_length)
    center = np.asarray(center, dtype=float)
    out = []
    for r in radii:
        with gmsh_session(verbose) as gmsh:
            gmsh.model.occ.addSphere(*center, r)
            gmsh.model.occ.synchronize()
            gmsh.option.setNumber("Mesh.MeshSizeMax", edge_length)
            gmsh.option.setNumber("Mesh.MeshSizeMin", 0.5 * edge_length)
            gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
            gmsh.option.setNumber("Mesh.RandomSeed", seed)
            gmsh.model.mesh.generate(2)
            tags, coords, _ = gmsh.model.mesh.getNodes()
            _, elements = gmsh.model.mesh.getElementsByType(2)
        order = np.argsort(tags)
        vertices = coords.reshape(-1, 3)[order]
        faces = np.searchsorted(tags[order], elements).reshape(-1, 3)
        p = vertices[faces]
        outward = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p.mean(axis=1) - center) > 0
        faces[~outward] = faces[~outward][:, ::-1]
        used, compact = np.unique(faces, return_inverse=True)
        out.append((vertices[used], compact.reshape(-1, 3)))
    return out


def sphere_projection(radii, center=(0.0, 0.0, 0.0)):
    """A callable moving points (n, 3) m radially onto the nearest of the spheres ``radii`` (m)
    about ``center``: new vertices of refined sphere surfaces (``Interfaces.refined``,
    solver/adaptive.py) then lie on the spheres, not on the flat facets."""
    radii, center = np.asarray(radii, dtype=float), np.asarray(center, dtype=float)

    def project(points):
        offset = np.asarray(points, dtype=float) - center
        distance = np.linalg.norm(offset, axis=1, keepdims=True)
        nearest = radii[np.abs(distance - radii).argmin(axis=1)][:, None]
        return center + offset * nearest / distance
    return project
