"""Adapter running the third-party GPU TMS FEM solver cuNIBS (PyPI ``cunibs`` 0.5.0) for benchmark comparisons.

cuNIBS (GPL-3.0, https://github.com/vcubiomag/cunibs) solves the P1 FEM problem for the TMS E-field on an NVIDIA GPU
(cupy + its own CUDA extension, CUDA 13, Python >= 3.12). Its public ``Subject``/``Placement`` API places a coil on a
scalp surface itself; here the coil is already placed, so the adapter drives the lower-level ``cunibs.fem`` layer
directly with an identity coil-to-head transform:

* ``cunibs.mesh.HeadMesh(nodes_mm, tet_nodes, tet_tags, surf_tris, surf_tags)`` - the mesh, in MILLIMETRES, 0-based;
* ``cunibs.fem.build_context(mesh)`` - the one-time setup: Morton reordering, float64 assembly, AMG hierarchy, PCG;
* ``cunibs.fem.solve_placements_block(ctx, dip_pos_m, dip_moment, sites, didt, transforms=..., recovery=None)`` - one
  placement: dA/dt of the magnetic dipoles at the nodes (positions in m, moments in A*m^2, times ``didt`` in A/s),
  RHS, mixed-precision PCG (relative residual 1e-6), and the raw per-tetrahedron field E = -grad(v) - <dA/dt>.

Inputs and outputs of :func:`run_cunibs` use SI units and our element order; see its docstring.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

_TESTED_VERSION = "0.5.0"


def available() -> str | None:
    """None if cuNIBS imports, finds a CUDA device and has the internals used here; else a short reason."""
    try:
        import cupy as cp

        if cp.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device visible to cupy"
        import cunibs
        import cunibs.fem.assembly as assembly
        import cunibs.fem.solve as solve
    except Exception as exc:  # ImportError, CUDA driver/runtime errors, ...
        return f"cunibs unusable: {type(exc).__name__}: {exc}"[:300]
    missing = [name for mod, name in ((solve, "build_context"), (solve, "solve_placements_block"),
                                      (solve, "spatial_order"), (assembly, "TISSUE_CONDUCTIVITY"))
               if not hasattr(mod, name)]
    if missing:
        return f"cunibs {cunibs.__version__} lacks {', '.join(missing)} (adapter written against {_TESTED_VERSION})"
    return None


def run_cunibs(nodes, tets, tags, conductivities, dipole_positions, dipole_moments, didt, n_repeats=3) -> dict:
    """Solve one already-placed dipole coil with cuNIBS and return the E-field in our element order.

    Args:
        nodes: (N, 3) float, node coordinates in metres (converted to mm for cuNIBS).
        tets: (M, 4) int, 0-based node indices; negatively oriented elements are reordered for cuNIBS.
        tags: (M,) int tissue tags; any integers, remapped to 1..K for cuNIBS.
        conductivities: {tag: sigma in S/m}, isotropic, one entry per tag present.
        dipole_positions: (D, 3) float, coil dipole positions in head coordinates, metres.
        dipole_moments: (D, 3) float, dipole moments per ampere of coil current, A*m^2/A.
        didt: coil current rate of change, A/s.
        n_repeats: timed solves after one untimed warm-up solve.

    Returns:
        dict with ``E`` ((M, 3) float64, total field -grad(v) - dA/dt per tetrahedron in V/m, our element order),
        ``setup_s`` (``build_context`` seconds, second build, i.e. with cupy kernels already compiled),
        ``solve_s`` (median seconds of one placement solve, GPU synchronised, excluding the device-to-host copy of E)
        and ``notes`` (str).
    """
    import cunibs
    import cunibs.fem.assembly as assembly
    import cupy as cp
    from cunibs.fem.solve import build_context, solve_placements_block, spatial_order
    from cunibs.mesh import HeadMesh

    sync = cp.cuda.Device().synchronize
    nodes_m = np.ascontiguousarray(nodes, dtype=np.float64)
    tets = np.array(tets, dtype=np.int32)
    tags = np.asarray(tags).astype(np.int64)
    if tets.ndim != 2 or tets.shape[1] != 4 or tags.shape != (tets.shape[0],):
        raise ValueError("tets must be (M, 4) and tags (M,)")

    # cuNIBS refuses elements with non-positive signed volume (det[p1-p0, p2-p0, p3-p0] / 6); swapping two
    # corners flips the orientation without changing the element or its field.
    p = nodes_m[tets]
    vol6 = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0])
    flip = vol6 < 0
    tets[flip] = tets[flip][:, [0, 2, 1, 3]]

    # cuNIBS takes sigma from the module table TISSUE_CONDUCTIVITY[tag] (tags 1..max); remap ours onto 1..K and
    # swap the table's contents for ours while the context is assembled.
    uniq = np.unique(tags)
    missing = [int(t) for t in uniq if int(t) not in conductivities]
    if missing:
        raise ValueError(f"no conductivity for tags {missing}")
    local_tags = (np.searchsorted(uniq, tags) + 1).astype(np.int32)
    table = {i + 1: float(conductivities[int(t)]) for i, t in enumerate(uniq)}

    mesh = HeadMesh(nodes_m * 1e3, tets, local_tags, np.empty((0, 3), np.int32), np.empty(0, np.int32))

    def build():
        saved = dict(assembly.TISSUE_CONDUCTIVITY)
        assembly.TISSUE_CONDUCTIVITY.clear()
        assembly.TISSUE_CONDUCTIVITY.update(table)
        try:
            sync()
            t0 = time.perf_counter()
            ctx = build_context(mesh)
            sync()
            return ctx, time.perf_counter() - t0
        finally:
            assembly.TISSUE_CONDUCTIVITY.clear()
            assembly.TISSUE_CONDUCTIVITY.update(saved)

    ctx, setup_cold = build()  # first build also JIT-compiles (or loads cached) cupy kernels
    del ctx
    cp.get_default_memory_pool().free_all_blocks()
    ctx, setup_s = build()

    # build_context lays tetrahedra out along a Morton curve; recompute that (deterministic) permutation and check it.
    nodes_dev, tets_dev = cp.asarray(mesh.nodes_mm), cp.asarray(tets)
    _, inverse, tet_perm = spatial_order(nodes_dev, tets_dev)
    if not bool(cp.array_equal(ctx.tet_nodes, inverse[tets_dev[tet_perm]])):
        raise RuntimeError("could not reproduce cuNIBS' element reordering")

    pos = cp.asarray(np.ascontiguousarray(dipole_positions, dtype=np.float64).reshape(-1, 3))
    mom = cp.asarray(np.ascontiguousarray(dipole_moments, dtype=np.float64).reshape(-1, 3))
    identity = np.eye(4)[None]  # coil frame == head frame (mm affine); the site tuple is then unused
    site = [(np.zeros(3), np.array([0.0, 1.0, 0.0]), 0.0)]

    def solve():
        (res,) = solve_placements_block(ctx, pos, mom, site, float(didt), transforms=identity, recovery=None,
                                        vectors=True, potential=False)
        return res

    res = solve()  # warm-up: kernel compilation, CG graph capture
    times = []
    for _ in range(max(1, int(n_repeats))):
        sync()
        t0 = time.perf_counter()
        res = solve()
        sync()
        times.append(time.perf_counter() - t0)

    E = np.empty((tets.shape[0], 3))
    E[cp.asnumpy(tet_perm)] = cp.asnumpy(res["E"])
    gpu = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"]
    gpu = gpu.decode() if isinstance(gpu, bytes) else str(gpu)
    notes = (
        f"cuNIBS {cunibs.__version__} on {gpu}: "
        "cunibs.mesh.HeadMesh(nodes*1e3 [m->mm], tets, tags remapped to 1..K, no surfaces) -> "
        "cunibs.fem.build_context (conductivities injected by temporarily replacing the contents of "
        "cunibs.fem.assembly.TISSUE_CONDUCTIVITY) -> cunibs.fem.solve_placements_block(ctx, dipole positions [m], "
        "moments [A m^2/A], [dummy site], didt [A/s], transforms=identity 4x4, recovery=None) i.e. cuNIBS' own "
        "magnetic-dipole dA/dt (float32 N-body) at nodes, element-mean dA/dt in the RHS, mixed fp32-AMG/fp64 PCG to "
        f"relative residual 1e-6 (iterations {res['iterations']}, residual {res['relative_residual']:.1e}), raw "
        "per-element E = -grad(v) - mean nodal dA/dt (float32, no 'harmonic' recovery). Elements mapped back from "
        f"cuNIBS' Morton order via cunibs.fem.solve.spatial_order; {int(flip.sum())} tets reoriented. setup_s is the "
        f"second build_context (first, with kernel compile/cache load: {setup_cold:.3f} s); solve_s excludes the "
        "device-to-host copy of E."
    )
    return {"E": E, "setup_s": setup_s, "solve_s": statistics.median(times), "notes": notes}
