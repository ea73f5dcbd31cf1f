"""Mesh quality checks that raise :class:`MeshError` with the offending elements named."""
from __future__ import annotations

import numpy as np

from ..core.errors import MeshError
from .geometry import signed_volumes

#: A tetrahedron is degenerate when |volume| < DEGENERATE_RTOL * (mean edge length)³.
DEGENERATE_RTOL = 1e-10


def _first(indices: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:n])
    return shown + (f", ... ({len(indices)} in all)" if len(indices) > n else "")


def check_arrays(nodes: np.ndarray, tets: np.ndarray, tags: np.ndarray) -> None:
    """Shapes, finiteness and index ranges."""
    if nodes.ndim != 2 or nodes.shape[1] != 3:
        raise MeshError(f"nodes must have shape (N, 3), got {nodes.shape}")
    if tets.ndim != 2 or tets.shape[1] != 4:
        raise MeshError(f"tetrahedra must have shape (M, 4), got {tets.shape}")
    if len(tets) == 0:
        raise MeshError("mesh has no tetrahedra")
    if tags.shape != (len(tets),):
        raise MeshError(f"need one tag per tetrahedron: {tags.shape} tags for {len(tets)} tetrahedra")
    bad = np.flatnonzero(~np.isfinite(nodes).all(axis=1))
    if len(bad):
        raise MeshError(f"non-finite node coordinates at node(s) {_first(bad)} (0-based)")
    if tets.min() < 0 or tets.max() >= len(nodes):
        raise MeshError(f"tetrahedra reference nodes outside 0..{len(nodes) - 1}")


def check_tetrahedra(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Raise on inverted or zero-volume tetrahedra; return the (positive) volumes in m³."""
    vol = signed_volumes(nodes, tets)
    scale = np.cbrt(np.mean(np.abs(vol))) if np.any(vol) else 1.0
    degenerate = np.flatnonzero(np.abs(vol) < DEGENERATE_RTOL * scale**3)
    if len(degenerate):
        raise MeshError(f"zero-volume (degenerate) tetrahedra: element(s) {_first(degenerate)} (0-based)")
    inverted = np.flatnonzero(vol < 0)
    if len(inverted):
        raise MeshError(f"inverted tetrahedra (negative volume, wrong node order): element(s) "
                        f"{_first(inverted)} (0-based); reorder their nodes or remesh")
    return vol


def unreferenced_nodes(n_nodes: int, *connectivity: np.ndarray) -> np.ndarray:
    """Indices of nodes that no element in ``connectivity`` uses."""
    used = np.zeros(n_nodes, dtype=bool)
    for conn in connectivity:
        if conn is not None and len(conn):
            used[conn.ravel()] = True
    return np.flatnonzero(~used)


def check_referenced(n_nodes: int, tets: np.ndarray) -> None:
    """Raise when some node belongs to no tetrahedron (it would make the FEM singular)."""
    unused = unreferenced_nodes(n_nodes, tets)
    if len(unused):
        raise MeshError(f"{len(unused)} node(s) belong to no tetrahedron, e.g. {_first(unused)} "
                        "(0-based); drop them with HeadMesh.remove_unreferenced_nodes()")
