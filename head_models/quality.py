"""Mesh quality and topology checks that raise :class:`MeshError` with the offending elements
and nodes named.

Messages name elements and nodes by 0-based row. A check that fails raises a
:class:`LocatedMeshError`, which can re-render its message with other labels: a reader passes
the ids of the file (gmsh node/element ids, VTK point/cell numbers), so that a user can find the
culprits in the file they have.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.errors import MeshError
from .geometry import row_keys, signed_volumes

#: A tetrahedron is degenerate when |volume| < DEGENERATE_RTOL * (mean edge length)³.
DEGENERATE_RTOL = 1e-10

#: turns 0-based rows (array) into words for a message, e.g. "node(s) 3, 7 (0-based)"
Labeler = Callable[[np.ndarray], str]


def _first(indices: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:n])
    return shown + (f", ... ({len(indices)} in all)" if len(indices) > n else "")


def zero_based(noun: str) -> Labeler:
    """Labels rows as themselves: ``noun(s) 3, 7 (0-based)``."""
    return lambda rows: f"{noun}(s) {_first(np.asarray(rows))} (0-based)"


class LocatedMeshError(MeshError):
    """A :class:`MeshError` about particular nodes/elements; ``render(node_label,
    element_label)`` rewrites the message with other labels (e.g. the ids of a file)."""

    def __init__(self, render: Callable[[Labeler, Labeler], str]):
        self.render = render
        super().__init__(render(zero_based("node"), zero_based("element")))


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
        raise LocatedMeshError(lambda node, element: f"non-finite node coordinates at {node(bad)}")
    check_indices(tets, len(nodes), "tetrahedra")


def check_indices(conn: np.ndarray, n_nodes: int, what: str = "tetrahedra") -> None:
    """Every entry of ``conn`` (M, k) is a row of the node array (0..n_nodes-1); a negative
    index would silently wrap round to the last nodes."""
    if not conn.size or (conn.min() >= 0 and conn.max() < n_nodes):
        return
    bad = np.flatnonzero(((conn < 0) | (conn >= n_nodes)).any(axis=1))
    value = int(conn[bad[0]][(conn[bad[0]] < 0) | (conn[bad[0]] >= n_nodes)][0])
    kind = "tetrahedron" if what == "tetrahedra" else "triangle"
    raise LocatedMeshError(lambda node, element: (
        f"{what} reference nodes outside 0..{n_nodes - 1}: {kind} {element(bad)} uses node "
        f"index {value}; the connectivity is corrupt (a negative index would wrap round to the "
        "last nodes), export the mesh again"))


def check_tetrahedra(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Raise on inverted or zero-volume tetrahedra; return the (positive) volumes in m³."""
    vol = signed_volumes(nodes, tets)
    scale = np.cbrt(np.mean(np.abs(vol))) if np.any(vol) else 1.0
    degenerate = np.flatnonzero(np.abs(vol) < DEGENERATE_RTOL * scale**3)
    if len(degenerate):
        raise LocatedMeshError(lambda node, element: (
            f"zero-volume (degenerate) tetrahedra: {element(degenerate)}; remove them or remesh"))
    inverted = np.flatnonzero(vol < 0)
    if len(inverted):
        raise LocatedMeshError(lambda node, element: (
            f"inverted tetrahedra (negative volume, wrong node order): {element(inverted)}; "
            "reorder their nodes or remesh"))
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
        raise LocatedMeshError(lambda node, element: (
            f"{len(unused)} node(s) belong to no tetrahedron, e.g. {node(unused)}; drop them "
            "with HeadMesh.remove_unreferenced_nodes()"))


# ------------------------------------------------------------------------------ topology

def _repeated_keys(keys: np.ndarray, times: int = 2) -> np.ndarray:
    """Distinct values that occur at least ``times`` times in ``keys`` (one sort, no argsort)."""
    ordered = np.sort(keys)
    hit = ordered[times - 1:] == ordered[:len(ordered) - times + 1]
    return np.unique(ordered[times - 1:][hit]) if hit.any() else ordered[:0]


def _groups(keys: np.ndarray, repeated: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Positions of each group of equal rows among those whose key is in ``repeated`` (exact,
    so hash collisions fall apart here)."""
    where = np.flatnonzero(np.isin(keys, repeated))
    sub = rows[where]
    order = np.lexsort(sub.T[::-1])
    sub, where = sub[order], where[order]
    new = np.ones(len(sub), dtype=bool)
    new[1:] = (sub[1:] != sub[:-1]).any(axis=1)
    return [g for g in np.split(where, np.flatnonzero(new)[1:]) if len(g) > 1]


def check_duplicate_elements(tets: np.ndarray, rows: np.ndarray | None = None) -> None:
    """Raise when two tetrahedra have the same four nodes (in any order); ``rows``: ``tets``
    sorted along each row, when the caller has them."""
    rows = np.sort(tets, axis=1) if rows is None else rows
    keys, _ = row_keys(rows, int(rows[:, 3].max()) + 1)
    repeated = _repeated_keys(keys)
    if not len(repeated):
        return
    groups = _groups(keys, repeated, rows)
    if not groups:      # hash collisions only
        return
    pair = groups[0]
    count = sum(len(g) - 1 for g in groups)
    raise LocatedMeshError(lambda node, element: (
        f"{count} duplicate tetrahedra: {element(pair)} have the same four nodes "
        f"({node(rows[pair[0]])}); the mesh holds elements twice (merged or exported twice?): "
        "remove the duplicates, e.g. gmsh.model.mesh.removeDuplicateElements(), and check "
        "the tags"))


def check_duplicate_nodes(nodes: np.ndarray) -> None:
    """Raise when two nodes lie at exactly the same point: tetrahedra on either side of a face
    that use their own copies of its nodes leave a crack (an internal boundary that current
    cannot cross) in the conductor."""
    order = np.lexsort(nodes.T[::-1])
    ordered = nodes[order]
    same = (ordered[1:] == ordered[:-1]).all(axis=1)
    if not same.any():
        return
    first = int(np.flatnonzero(same)[0])
    pair = np.sort(order[first:first + 2])
    count = int(same.sum())
    point = nodes[pair[0]].tolist()
    raise LocatedMeshError(lambda node, element: (
        f"{count} duplicated node(s): {node(pair)} lie at the same point {point}; tetrahedra "
        "that should share a face each use their own copy of its nodes, leaving a crack (an "
        "internal boundary that insulates): merge coincident nodes, e.g. "
        "gmsh.model.mesh.removeDuplicateNodes() or `Coherence Mesh;` in gmsh, "
        "pyvista's clean()"))


#: the face opposite each corner of a tetrahedron whose nodes are sorted: sorted as well
_SORTED_FACES = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def _face_keys(rows: np.ndarray) -> np.ndarray:
    """Key of each face (4M,) of tetrahedra ``rows`` (M, 4) sorted along each row, face
    ``4 * element + corner``: exact (packed) below 2**21 nodes, else a hash."""
    base = int(rows[:, 3].max()) + 1
    if base**3 >= 2**63:
        return row_keys(rows[:, _SORTED_FACES].reshape(-1, 3), base)[0]
    a, b, c, d = (rows[:, i] for i in range(4))
    keys = np.empty((len(rows), 4), dtype=np.int64)
    ab = (a * base + b) * base
    keys[:, 3] = ab + c
    keys[:, 2] = ab + d
    keys[:, 1] = (a * base + c) * base + d
    keys[:, 0] = (b * base + c) * base + d
    return keys.reshape(-1)


def check_shared_faces(tets: np.ndarray, rows: np.ndarray | None = None) -> None:
    """Raise when a triangle is a face of more than two tetrahedra (overlapping elements).

    The rule of :func:`tmsfield.head_models.surfaces.tet_faces`, checked here with one sort of
    a key per face (no argsort), so that it costs ~0.3 s at 1M tetrahedra at load time;
    ``tet_faces`` classifies the faces later, when surfaces are needed."""
    rows = np.sort(tets, axis=1) if rows is None else rows
    keys = _face_keys(rows)
    repeated = _repeated_keys(keys, 3)
    if not len(repeated):
        return
    faces = rows[:, _SORTED_FACES].reshape(-1, 3)
    groups = [g for g in _groups(keys, repeated, faces) if len(g) > 2]
    if not groups:
        return
    crowded = groups[0] // 4
    face = faces[groups[0][0]]
    raise LocatedMeshError(lambda node, element: (
        f"{len(groups)} face(s) are shared by more than two tetrahedra: {element(crowded)} all "
        f"have the face with {node(face)}; the elements overlap or are duplicated: repair "
        "the mesh (remesh, or remove the overlapping elements)"))


def check_topology(nodes: np.ndarray, tets: np.ndarray) -> None:
    """Duplicate elements, duplicated nodes (cracks) and faces of more than two tetrahedra
    (~0.5 s at 1.1M tetrahedra, 190k nodes)."""
    rows = np.sort(tets, axis=1)
    check_duplicate_elements(tets, rows)
    check_duplicate_nodes(nodes)
    check_shared_faces(tets, rows)
