"""Tetrahedralise nested closed triangle surfaces (e.g. brain/skull/scalp) into a HeadMesh."""
from __future__ import annotations

import logging

import numpy as np

from ..core.errors import MeshError
from .geometry import signed_volumes
from .gmsh_session import gmsh_session, tagged_tetrahedra
from .mesh import compact_nodes
from .surface_checks import check_closed, check_no_self_intersections, segments_crossing
from .surfaces import winding_number

log = logging.getLogger("tmsfield")


def enclosed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume (m³) enclosed by a closed surface: positive when its normals point outward."""
    p = vertices[faces]
    return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)


def nested_surfaces(surfaces) -> list[tuple[np.ndarray, np.ndarray]]:
    """Validate closed, nested surfaces given innermost first and orient them outward.

    surfaces : sequence of (vertices (n, 3) in m, faces (k, 3) 0-based). Raises MeshError
    for malformed arrays, open, inconsistently oriented or self-intersecting surfaces, and
    surfaces that cross or are not nested. Returns [(vertices, faces)] with outward normals.
    """
    out = []
    for i, (vertices, faces) in enumerate(surfaces):
        v, f = np.asarray(vertices, float), np.asarray(faces)
        if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3 or not np.isfinite(v).all():
            raise MeshError(f"surface {i}: need finite vertices (n, 3) and faces (k, 3)")
        if not np.issubdtype(f.dtype, np.integer):
            raise MeshError(f"surface {i}: face indices must be integers, got {f.dtype}")
        f = f.astype(np.int64)
        if f.min() < 0 or f.max() >= len(v):
            raise MeshError(f"surface {i}: face indices outside 0..{len(v) - 1} (1-based input? subtract 1)")
        check_closed(v, f, name=f"surface {i}")
        check_no_self_intersections(v, f, name=f"surface {i}")
        if enclosed_volume(v, f) < 0:
            f = f[:, ::-1]  # make normals point outward
        out.append((v, f))
    for i in range(len(out) - 1):
        (iv, inner_faces), (ov, of) = out[i], out[i + 1]
        edges = np.unique(np.sort(inner_faces[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2), axis=1), axis=0)
        crossing = segments_crossing(iv[edges[:, 0]], iv[edges[:, 1]], ov, of)
        if len(crossing):
            where = np.round(1e3 * iv[edges[crossing[0], 0]], 2).tolist()
            raise MeshError(f"surfaces {i} and {i + 1} intersect or are not nested: {len(crossing)} edges of "
                            f"surface {i} cross surface {i + 1} (e.g. at {where} mm)")
        if winding_number(iv[:1], ov, of)[0] < 0.5:   # no crossings: one vertex decides for all
            raise MeshError(f"surfaces {i} and {i + 1} intersect or are not nested: surface {i} lies "
                            f"outside surface {i + 1} (give the surfaces innermost first)")
    return out


def from_surfaces(surfaces, tags, *, edge_length: float | None = None, size=None, name: str = "surface head",
                  verbose: bool = False):
    """HeadMesh filling nested closed surfaces, given innermost first.

    surfaces : sequence of (vertices (n, 3) in m, faces (k, 3) 0-based) closed, nested surfaces.
    tags : tissue tag of each compartment: tags[0] inside surfaces[0], tags[i] between
        surfaces[i-1] and surfaces[i].
    edge_length : maximum tetrahedron edge (m); by default sizes follow the surface triangles.
    size : optional function of points (n, 3) in m → target edge lengths (n,) in m, used inside
        the volumes instead of sizes interpolated from the surface triangles (e.g. to grade the
        mesh coarser deep inside a compartment); keep it near the triangle sizes at the surfaces.
    The surface triangles are kept as they are (boundary-conforming mesh).
    """
    if len(surfaces) != len(tags) or not surfaces:
        raise MeshError(f"need one tag per surface: {len(surfaces)} surfaces, {len(tags)} tags")
    surfaces = nested_surfaces(surfaces)
    with gmsh_session(verbose) as gmsh:
        loops, offset = [], 0
        for vertices, faces in surfaces:
            entity = gmsh.model.addDiscreteEntity(2)
            gmsh.model.mesh.addNodes(2, entity, offset + 1 + np.arange(len(vertices)), vertices.ravel())
            gmsh.model.mesh.addElementsByType(entity, 2, [], (faces + offset + 1).ravel())
            offset += len(vertices)
            loops.append(gmsh.model.geo.addSurfaceLoop([entity]))
        volume_tags = {}
        for i, loop in enumerate(loops):
            volume = gmsh.model.geo.addVolume([loop] + ([loops[i - 1]] if i else []))
            volume_tags[volume] = int(tags[i])
        gmsh.model.geo.synchronize()
        if edge_length is not None:
            gmsh.option.setNumber("Mesh.MeshSizeMax", edge_length)
        if size is not None:
            gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
            gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
            gmsh.model.mesh.setSizeCallback(
                lambda dim, tag, x, y, z, lc: float(np.asarray(size(np.array([[x, y, z]]))).ravel()[0]))
        gmsh.option.setNumber("Mesh.Optimize", 1)
        try:
            gmsh.model.mesh.generate(3)
        except Exception as exc:  # gmsh reports self-intersections etc. as a bare Exception
            raise MeshError(f"gmsh could not tetrahedralise the surfaces: {exc}") from exc
        nodes, tets, tet_tags = tagged_tetrahedra(gmsh, volume_tags)
    flip = signed_volumes(nodes, tets) < 0
    tets[flip] = tets[flip][:, [0, 2, 1, 3]]
    head = compact_nodes(nodes, tets, tet_tags, name=name)
    log.info("tetrahedralised %d surfaces: %d nodes, %d tetrahedra", len(surfaces), head.n_nodes, head.n_tets)
    return head
