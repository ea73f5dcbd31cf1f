"""ADM sweep: E·d at the target for every position × handle angle, in batches of positions."""
from __future__ import annotations

import numpy as np

from ..core.progress import progress, timed
from .adm import correlate, rotation_synthesis
from .biot_savart import FMM_EPS

#: grid nodes per FMM call (bounds the temporaries: ~9 doubles × 3 directions per node)
NODES_PER_BATCH = 400_000


def orientation_maps(field, aux, frames, angles, *, timings: dict, eps: float = FMM_EPS,
                     verbose: bool = False) -> np.ndarray:
    """E·d (V/m), shape (P, n_angles_out, K), for the coil ``aux`` (:class:`AuxiliaryCoil`,
    moments already scaled by dI/dt) at base ``frames`` (P, 4, 4) turned by ``angles`` (rad)
    about its axis, from the reciprocal ``field`` (:class:`ReciprocityField`, K directions).

    ``timings`` gains "grid fields" (FMM on the grid nodes, the per-position setup) and
    "rotations" (the cross-correlations: the evaluation proper)."""
    grid = aux.grid
    nodes = grid.nodes().reshape(-1, 3)
    spectra = aux.spectra()
    synthesis = rotation_synthesis(angles, grid.n_angles)
    want = "".join(sorted(spectra))
    k = field.n_directions
    out = np.zeros((len(frames), len(angles), k))
    per_batch = max(1, NODES_PER_BATCH // len(nodes))
    starts = range(0, len(frames), per_batch)
    for s in progress(starts, total=len(starts), desc="ADM positions", verbose=verbose):
        block = frames[s:s + per_batch]
        rot = block[:, :3, :3]
        with timed(timings, "grid fields"):
            world = np.einsum("pij,nj->pni", rot, nodes) + block[:, None, :3, 3]
            f = field.fields(world.reshape(-1, 3), want=want, eps=eps)
            local = {}
            for kind, val in f.items():                       # (K, B·G, 3) world → coil frame → local
                val = np.einsum("kpni,pij->kpnj", val.reshape(k, len(block), len(nodes), 3), rot)
                local[kind] = grid.to_local(val.reshape((k, len(block)) + grid.shape + (3,)))
        with timed(timings, "rotations"):
            out[s:s + per_batch] = -correlate(spectra, local, synthesis).transpose(1, 2, 0)
    return out
