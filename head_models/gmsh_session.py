"""A scoped gmsh session and extraction of a tagged tetrahedral mesh from its model."""
from __future__ import annotations

import contextlib
import logging

import numpy as np

log = logging.getLogger("tmsfield")


@contextlib.contextmanager
def gmsh_session(verbose: bool = False):
    """Initialise gmsh for one model (quiet unless ``verbose``) and always finalise it."""
    import gmsh
    owns = not gmsh.isInitialized()
    if owns:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
    gmsh.model.add("tmsfield")
    try:
        yield gmsh
    finally:
        gmsh.model.remove()
        if owns:
            gmsh.finalize()


def tagged_tetrahedra(gmsh, volume_tags: dict[int, int]):
    """Nodes (N, 3), tets (M, 4) 0-based, and tags (M,) from the meshed gmsh model.

    ``volume_tags`` maps gmsh volume entity -> tissue tag.
    """
    node_ids, coords, _ = gmsh.model.mesh.getNodes()
    index = np.full(int(node_ids.max()) + 1, -1, dtype=np.int64)
    index[node_ids.astype(np.int64)] = np.arange(len(node_ids))
    tets, tags = [], []
    for entity, tag in volume_tags.items():
        types, _, conn = gmsh.model.mesh.getElements(3, entity)
        for etype, c in zip(types, conn):
            if etype != 4:  # 4-node tetrahedron
                raise RuntimeError(f"gmsh produced element type {etype}, expected tetrahedra")
            t = index[c.astype(np.int64).reshape(-1, 4)]
            tets.append(t)
            tags.append(np.full(len(t), tag, dtype=np.int64))
    return coords.reshape(-1, 3), np.concatenate(tets), np.concatenate(tags)
