"""Fast multipole evaluation of coil fields with fmm3dpy (CPU).

The FMM calls go through :mod:`tmsfield.core.fmm` (kernel normalisation, error codes).
Segments are integrated with Gauss–Legendre points; (target, segment) pairs closer than
``NEAR_FACTOR`` segment lengths are corrected with the exact closed form.
"""
from __future__ import annotations

import numpy as np

from ..core.fmm import kernel_scale, lfmm3d
from . import kernels

#: requested FMM precision per field: the loosest eps whose measured error against exact sums
#: stays below 1e-6 relative. A at eps 1e-4, 100k points in a head-sized ball
#: (benchmarks/results/primary_field.md): 2.5e-7 (figure-8 dipoles), 1.1e-7 (wire), as at eps
#: 1e-6 (2.1e-7, 1.1e-7) and 1.6× faster; at eps 1e-3 1.2e-4, too coarse. Checked once by hand
#: against FMM at eps 1e-10: Magstim and MagVenture .ccd 1.2e-7 at eps 1e-4. B at eps 1e-6:
#: 2.8e-6 max (Magstim .ccd, 20k points), at eps 1e-8: 1.1e-9.
#: tests/test_coil_fields.py::test_fmm_agrees_with_direct checks both.
FMM_EPS = {"A": 1e-4, "B": 1e-8}
#: Gauss points per segment in the far field, and the near-field radius in segment lengths
#: (2-point Gauss has relative error ~ (L/d)^4 / 270, i.e. < 1e-6 beyond 5 L)
N_GAUSS = 2
NEAR_FACTOR = 5.0


def _lfmm(sources, targets, eps, pgt, charges=None, dipvec=None):
    """fmm3dpy.lfmm3d with several charge densities (charges (nd, n)) or dipole densities
    (dipvec (nd, 3, n) or (3, n)), rescaled to the 1/r kernel. Returns pottarg or gradtarg."""
    nd = len(charges) if charges is not None else (len(dipvec) if dipvec.ndim == 3 else 1)
    out = lfmm3d(eps=eps, sources=np.ascontiguousarray(sources.T),
                         charges=charges, dipvec=dipvec, targets=np.ascontiguousarray(targets.T),
                         pgt=pgt, nd=nd)
    scale = 1.0 / kernel_scale()
    return (np.asarray(out.pottarg) * scale if pgt == 1 else np.asarray(out.gradtarg) * scale)


def _curl(grad: np.ndarray) -> np.ndarray:
    """Curl of a vector field ψ from grad[k, j, n] = ∂_j ψ_k; returns (n, 3)."""
    return np.stack([grad[2, 1] - grad[1, 2], grad[0, 2] - grad[2, 0], grad[1, 0] - grad[0, 1]], axis=1)


def dipoles(points, positions, moments, field: str, eps: float | None = None) -> np.ndarray:
    """Σ over dipoles of m × R/R³ ("A", as primary._dipole_potential) or kernels.dipole_b ("B") at
    ``points``, (N, 3)."""
    eps = FMM_EPS[field] if eps is None else eps
    if field == "A":
        # (m × R)_i = v_i·R with v_x = (0, −m_z, m_y), v_y = (m_z, 0, −m_x), v_z = (−m_y, m_x, 0):
        # three dipole densities, potentials only (cheaper than gradients of charges)
        mx, my, mz = moments.T
        zero = np.zeros_like(mx)
        v = np.array([[zero, -mz, my], [mz, zero, -mx], [-my, mx, zero]])
        return _lfmm(positions, points, eps, 1, dipvec=np.ascontiguousarray(v)).T.copy()
    # B ∝ −∇(Σ m·R/R³); fmm3dpy's dipole potential is v·R/R³ (times its kernel scale)
    return -_lfmm(positions, points, eps, 2, dipvec=np.ascontiguousarray(moments.T)).T


def _gauss_sources(starts, ends, weights):
    x, w = np.polynomial.legendre.leggauss(N_GAUSS)
    t = 0.5 * (x + 1.0)
    edge = ends - starts
    pos = (starts[:, None] + t[None, :, None] * edge[:, None]).reshape(-1, 3)
    strength = (0.5 * w[None, :, None] * (weights[:, None] * edge)[:, None]).reshape(-1, 3)
    return pos, strength


def _gauss_pairwise(field, r, starts, ends, weights):
    """Gauss-quadrature contribution of single (target, segment) pairs, (P, 3)."""
    x, w = np.polynomial.legendre.leggauss(N_GAUSS)
    edge = ends - starts
    total = np.zeros_like(r)
    for xi, wi in zip(x, w):
        pos = starts + 0.5 * (xi + 1.0) * edge
        q = 0.5 * wi * weights[:, None] * edge
        d = r - pos
        dist = np.linalg.norm(d, axis=1)
        total += q / dist[:, None] if field == "A" else np.cross(q, d) / dist[:, None] ** 3
    return total


def segments(points, starts, ends, weights, field: str, eps: float | None = None) -> np.ndarray:
    """Σ over segments of kernels.segment_a ("A") or kernels.segment_b ("B") at ``points``."""
    from scipy.spatial import cKDTree
    eps = FMM_EPS[field] if eps is None else eps
    pos, strength = _gauss_sources(starts, ends, weights)
    charges = np.ascontiguousarray(strength.T)
    if field == "A":
        out = _lfmm(pos, points, eps, 1, charges=charges).T.copy()
    else:  # B ∝ Σ q × R/R³ = curl of ψ_k = Σ q_k / R
        out = _curl(_lfmm(pos, points, eps, 2, charges=charges))
    length = np.linalg.norm(ends - starts, axis=1)
    near = cKDTree(points).query_ball_point(0.5 * (starts + ends), r=(NEAR_FACTOR + 0.5) * length)
    counts = np.fromiter((len(n) for n in near), dtype=np.int64, count=len(near))
    if counts.sum():
        seg = np.repeat(np.arange(len(near)), counts)
        tgt = np.concatenate([np.asarray(n, dtype=np.int64) for n in near if n])
        exact_kernel = kernels.segment_a if field == "A" else kernels.segment_b
        exact = exact_kernel(np, points[tgt], starts[seg], ends[seg], weights[seg])
        np.add.at(out, tgt, exact - _gauss_pairwise(field, points[tgt], starts[seg], ends[seg], weights[seg]))
    return out
