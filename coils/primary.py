"""Primary fields of a placed coil: A and B by direct summation or FMM, chosen automatically."""
from __future__ import annotations

import logging

import numpy as np

from ..core.backend import get_backend
from ..core.checks import check_choice
from ..core.errors import CoilError, TmsFieldError
from ..core.pairwise import cross, inverse_power_sums
from ..core.units import MU0_OVER_4PI
from . import fmm, kernels

log = logging.getLogger("tmsfield")

#: pairs (targets × sources) per direct-sum block: bounds memory to ~100 MB on the CPU; a GPU
#: takes blocks 16× larger (~1.6 GB), so that kernel launches do not dominate
CHUNK_PAIRS = 1 << 20
DEVICE_CHUNK_PAIRS = 1 << 24
#: above this many target×source pairs the CPU uses the FMM ("auto"). benchmarks/results/
#: primary_field.md (2026-11-29) measures the crossover for wire segments at ~5e6 pairs (1.5× at
#: 6.9e6) and for dipoles' A, summed by tiled matrix products, at ~2e7 (0.48 at 9.2e6, 1.29 at
#: 3.1e7); dipoles' B keeps the pairwise kernel and the earlier ~3e6 measurement
FMM_MIN_PAIRS = 5_000_000
FMM_MIN_PAIRS_DIPOLE_A = 20_000_000
METHODS = ("auto", "direct", "fmm")


def _direct(kernel, points, sources, be) -> np.ndarray:
    xp = be.xp
    pts = be.asarray(points, dtype=xp.float64)
    srcs = [be.asarray(s, dtype=xp.float64) for s in sources]
    n_src = len(srcs[0])
    pairs = DEVICE_CHUNK_PAIRS if be.name == "gpu" else CHUNK_PAIRS
    src_block = min(n_src, pairs)
    pt_block = max(1, pairs // src_block)
    out = xp.zeros_like(pts)
    for i in range(0, len(pts), pt_block):
        r = pts[i:i + pt_block, None, :]
        for j in range(0, n_src, src_block):
            block = [s[j:j + src_block][None] for s in srcs]
            out[i:i + pt_block] += kernel(xp, r, *block).sum(axis=1)
    return be.to_numpy(out)


def _dipole_potential(points, positions, moments, be) -> np.ndarray:
    """Σ m × (r − p)/|r − p|³ = U(r) × r − V(r) with U = Σ m/|r − p|³, V = Σ (m × p)/|r − p|³:
    two tiled matrix products per block (core/pairwise.py) instead of (T, S, 3) temporaries."""
    weights = np.hstack([moments, np.cross(moments, positions)])
    sums = inverse_power_sums(points, positions, {3: weights}, be)[3]
    return be.to_numpy(cross(be.xp, sums[:, :3], be.asarray(points, dtype=be.xp.float64)) - sums[:, 3:])


def _field(coil, points, field: str, method: str, backend) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise TmsFieldError(f"points must have shape (N, 3), got {points.shape}")
    if not np.isfinite(points).all():
        raise TmsFieldError("points contain NaN or infinite coordinates")
    check_choice(method, METHODS, "method")
    be = get_backend(backend)

    def use_fmm(n_sources: int, threshold: int) -> bool:
        # "auto": the FMM is the fast path where the arithmetic runs on the host (the CPU, and
        # the device emulation, which checks transfers, not speed); a GPU sums directly
        return method == "fmm" or (method == "auto" and be.name != "gpu" and len(points) * n_sources > threshold)
    out = np.zeros_like(points)
    dip = (coil.dipole_positions, coil.dipole_moments)
    seg = (coil.segment_starts, coil.segment_ends, coil.segment_weights)
    if len(points) == 0:
        return out
    if len(dip[0]):
        if use_fmm(len(dip[0]), FMM_MIN_PAIRS_DIPOLE_A if field == "A" else FMM_MIN_PAIRS):
            out += fmm.dipoles(points, *dip, field)
        elif field == "A":
            out += _dipole_potential(points, *dip, be)
        else:
            out += _direct(kernels.dipole_b, points, dip, be)
    if len(seg[0]):
        if use_fmm(len(seg[0]), FMM_MIN_PAIRS):
            out += fmm.segments(points, *seg, field)
        else:
            out += _direct(kernels.segment_a if field == "A" else kernels.segment_b, points, seg, be)
    out *= MU0_OVER_4PI
    if coil.grids and field != "A":
        raise CoilError(f"coil {coil.name!r} holds a sampled A-field grid: it gives A and dA/dt, not B; use a "
                        "version of the coil made of dipoles or wires (.ccd/.tcd) for B (and for the placement search)")
    for grid in coil.grids:
        out += grid.potential(points)
    return out


def vector_potential(coil, points, *, method="auto", backend="auto") -> np.ndarray:
    """A (T·m) of a coil already placed in head coordinates, at ``points`` (N, 3) m → (N, 3).

    ``method``: "direct" (exact closed forms, chunked, on ``backend``), "fmm" (fmm3dpy, CPU) or
    "auto" (on the CPU the FMM above ``FMM_MIN_PAIRS`` target×source pairs, ``FMM_MIN_PAIRS_DIPOLE_A``
    for dipoles' A; direct on a GPU).
    """
    return _field(coil, points, "A", method, backend)


def magnetic_field(coil, points, *, method="auto", backend="auto") -> np.ndarray:
    """B (T) of a placed coil at ``points`` (N, 3) m → (N, 3); methods as vector_potential."""
    return _field(coil, points, "B", method, backend)
