"""Self- and mutual inductance of wire-segment coils by Neumann's formula (SI units: m, H).

Mutual inductance of two closed filamentary circuits (Neumann):

    M = μ0/4π ∮∮ dl1·dl2 / |r1 − r2|.

For two straight filaments i, j (unit directions u, v, c = u·v) the double integral
∫∫ ds dt / R has a closed form (G. A. Campbell, "Mutual inductances of circuits composed of
straight wires", Phys. Rev. 5:452, 1915; F. W. Grover, *Inductance Calculations*, 1946, the
chapter on straight filaments in any relative position). With σ, τ the arc lengths measured from the feet of the
common perpendicular of the two lines, d its length, S = sin ε = √(1 − c²), R the distance
between the two points, a = τ − cσ and b = σ − cτ:

    F(σ, τ) = σ ln(a + R) + τ ln(b + R) − (d/S) atan[(c R² + a b) / (d S R)],
    ∫∫ ds dt / R = F(σ2, τ2) − F(σ1, τ2) − F(σ2, τ1) + F(σ1, τ1)

(∂²F/∂σ∂τ = 1/R was checked symbolically; tests/test_coil_design.py checks the integral
against adaptive quadrature). Parallel filaments use −c·G(x), x = s − ct + w·u,
G(x) = x asinh(x/d) − √(x² + d²) (G(x) = |x|(ln|x| − 1) when collinear).

Self term. Following Dengler (2016, "Self inductance of a wire loop as a curve integral",
Adv. Electromagn. 5(1):1–8, arXiv:1204.1486) the self inductance of a thin wire is the
Neumann double integral with the pairs closer than a/2 along the wire left out, plus a
constant per length for the internal field. For a polygon of straight segments the left-out
pieces at the vertices cancel the end corrections of each segment's own term, so each
segment contributes Rosa's asymptotic formula for a straight round wire,

    L_ii = μ0 l/(2π) [ln(2l/g) − 1],   g = a·e^(−1/4) (uniform current), g = a (surface current),

and every other pair — adjacent segments included — the filament formula above. g is the
geometric mean distance (GMD) of the cross-section from itself; a rectangle w × h has
g ≈ 0.2235 (w + h) (Rosa & Grover 1912; Grover 1946, Table 1). The error is O((a/ρ)²) on
smooth windings of radius of curvature ρ (Dengler 2016), plus the polygon's O(N⁻²).
"""
from __future__ import annotations

import logging

import numpy as np

from ..core.checks import check_choice
from ..core.errors import CoilError
from ..core.units import MU0_OVER_4PI

log = logging.getLogger("tmsfield")

#: GMD of a round wire of radius a from itself, as a fraction of a, per current distribution:
#: uniform (DC, or wire thinner than the skin depth) e^(−1/4); surface (full skin effect) 1.
ROUND_WIRE_GMD = {"uniform": float(np.exp(-0.25)), "surface": 1.0}
#: GMD of a w × h rectangle ≈ RECT_GMD × (w + h) (Rosa & Grover 1912; within 0.5 % for all ratios)
RECT_GMD = 0.2235
#: below this sin(angle) two filaments are treated as parallel (both turned to their mean
#: direction about their midpoints), an O(S) error; above it the general formula loses ~1e-17/S²
#: to cancellation. Measured worst case at the switch: ~1e-6 relative in the pair's integral
#: (tests/test_coil_design.py::test_pair_integral_near_parallel).
PARALLEL_SIN = 1e-5
#: pairs per block of the vectorised sum (bounds memory to ~ 40 arrays × this × 8 bytes)
BLOCK_PAIRS = 1 << 18


def round_wire_gmd(radius: float, current: str = "uniform") -> float:
    """GMD (m) of a round wire of ``radius`` (m) from itself, for the given current distribution."""
    if not np.isfinite(radius) or radius <= 0:
        raise CoilError(f"wire radius must be a positive finite length (m), got {radius}")
    check_choice(current, sorted(ROUND_WIRE_GMD), "current distribution", error=CoilError)
    return radius * ROUND_WIRE_GMD[current]


def rect_gmd(width: float, height: float) -> float:
    """GMD (m) of a rectangular ``width`` × ``height`` (m) cross-section from itself (≈0.2235 (w+h))."""
    for key, v in (("width", width), ("height", height)):
        if not np.isfinite(v) or v <= 0:
            raise CoilError(f"wire {key} must be a positive finite length (m), got {v}")
    return RECT_GMD * (width + height)


def _log_term(x, inner, rr):
    """x · ln(inner + R) with 0·ln(0) → 0; ``inner + R`` formed without cancellation."""
    arg = np.where(inner >= 0, inner + rr, (rr * rr - inner * inner) / np.maximum(rr - inner, 1e-300))
    safe = np.where(arg > 0, arg, 1.0)
    return np.where(x == 0, 0.0, x * np.log(safe))


def pair_integrals(p0, u, l1, q0, v, l2) -> np.ndarray:
    """∫∫ ds dt / |p0 + s u − q0 − t v| over s ∈ [0, l1], t ∈ [0, l2], closed form, per pair.

    p0, q0 : (K, 3) segment starts (m); u, v : (K, 3) unit directions; l1, l2 : (K,) lengths (m).
    Returns (K,) values in m. Finite for touching or crossing filaments; infinite only for
    collinear overlapping ones (callers reject those).
    """
    w = p0 - q0
    c = np.clip(np.einsum("ij,ij->i", u, v), -1.0, 1.0)
    s2 = 1.0 - c * c
    wu, wv = np.einsum("ij,ij->i", w, u), np.einsum("ij,ij->i", w, v)
    out = np.empty(len(c))
    par = s2 < PARALLEL_SIN**2
    gen = ~par
    if gen.any():
        cg, sg, wug, wvg = c[gen], np.sqrt(s2[gen]), wu[gen], wv[gen]
        s0 = (cg * wvg - wug) / sg**2          # closest points of the two lines
        t0 = (wvg - cg * wug) / sg**2
        dvec = w[gen] + s0[:, None] * u[gen] - t0[:, None] * v[gen]
        d = np.linalg.norm(dvec, axis=1)
        total = np.zeros(len(cg))
        for s, sign_s in ((l1[gen], 1.0), (np.zeros(len(cg)), -1.0)):
            for t, sign_t in ((l2[gen], 1.0), (np.zeros(len(cg)), -1.0)):
                rvec = w[gen] + s[:, None] * u[gen] - t[:, None] * v[gen]
                rr = np.linalg.norm(rvec, axis=1)
                a = t - cg * s - wvg                 # τ − cσ, from local quantities
                b = s - cg * t + wug                 # σ − cτ
                f = _log_term(s - s0, a, rr) + _log_term(t - t0, b, rr)
                dd = d * sg * rr
                at = np.where(dd > 0, np.arctan2(cg * rr * rr + a * b, np.where(dd > 0, dd, 1.0)), 0.0)
                f -= np.where(d > 0, d / sg * at, 0.0)
                total += sign_s * sign_t * f
        out[gen] = total
    if par.any():
        cp = np.where(c[par] < 0, -1.0, 1.0)
        e = u[par] + cp[:, None] * v[par]
        e /= np.linalg.norm(e, axis=1)[:, None]
        wpar = ((p0[par] + 0.5 * l1[par, None] * (u[par] - e))
                - (q0[par] + 0.5 * l2[par, None] * (v[par] - cp[:, None] * e)))
        wue = np.einsum("ij,ij->i", wpar, e)
        d = np.sqrt(np.maximum(np.einsum("ij,ij->i", wpar, wpar) - wue**2, 0.0))
        total = np.zeros(len(cp))
        xmin, xmax = np.full(len(cp), np.inf), np.full(len(cp), -np.inf)
        for s, sign_s in ((l1[par], 1.0), (np.zeros(len(cp)), -1.0)):
            for t, sign_t in ((l2[par], 1.0), (np.zeros(len(cp)), -1.0)):
                x = s - cp * t + wue
                xmin, xmax = np.minimum(xmin, x), np.maximum(xmax, x)
                ax = np.abs(x)
                safe_d = np.where(d > 0, d, 1.0)
                g_par = x * np.arcsinh(x / safe_d) - np.hypot(x, d)
                g_col = np.where(ax > 0, ax * (np.log(np.where(ax > 0, ax, 1.0)) - 1.0), 0.0)
                total += sign_s * sign_t * (-cp) * np.where(d > 0, g_par, g_col)
        # collinear filaments whose extents overlap: the integral diverges
        out[par] = np.where((d == 0) & (xmin < 0) & (xmax > 0), np.inf, total)
    return out


def _segments(coil, name):
    if len(coil.dipole_positions):
        raise CoilError(f"coil {coil.name!r} has magnetic dipoles: inductance needs the wire-segment "
                        "model (e.g. figure8(model='wire'))")
    if len(coil.segment_starts) == 0:
        raise CoilError(f"{name}: coil {coil.name!r} has no segments")
    start, end = coil.segment_starts, coil.segment_ends
    length = np.linalg.norm(end - start, axis=1)
    return start, (end - start) / length[:, None], length, coil.segment_weights


def _check_gmd(gmd, n):
    g = np.broadcast_to(np.asarray(gmd, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise CoilError("wire radius / GMD must be positive and finite (m) for every segment")
    return g


def _block_sum(a, b, same: bool, block: int) -> float:
    """Σ_ij w_i w_j c_ij I_ij over all pairs (i in a, j in b); the diagonal excluded when ``same``."""
    (p, u, lp, wp), (q, v, lq, wq) = a, b
    rows = max(1, block // max(len(q), 1))
    total = 0.0
    for i0 in range(0, len(p), rows):
        i1 = min(len(p), i0 + rows)
        if same:   # upper triangle of the symmetric pair matrix, doubled
            ii, jj = np.triu_indices(i1 - i0, 1, len(q) - i0)
            ii, jj = ii + i0, jj + i0
        else:
            ii, jj = np.divmod(np.arange((i1 - i0) * len(q)), len(q))
            ii += i0
        if len(ii) == 0:
            continue
        integ = pair_integrals(p[ii], u[ii], lp[ii], q[jj], v[jj], lq[jj])
        bad = ~np.isfinite(integ)
        if bad.any():
            k = np.flatnonzero(bad)[0]
            raise CoilError(f"segments {ii[k]} and {jj[k]} overlap (collinear and sharing length): "
                            "the wires intersect")
        cosine = np.einsum("ij,ij->i", u[ii], v[jj])
        total += (2.0 if same else 1.0) * float(np.sum(wp[ii] * wq[jj] * cosine * integ))
    return total


def self_inductance(coil, *, wire_radius: float | None = None, gmd=None, current: str = "uniform",
                    block: int = BLOCK_PAIRS) -> float:
    """Self-inductance (H) of a wire-segment coil by Neumann's formula.

    Give either ``wire_radius`` (m, round wire; ``current`` "uniform" adds the internal
    inductance μ0 l/8π, "surface" leaves it out) or ``gmd`` (m): the geometric mean distance of
    each segment's cross-section, scalar or (S,) — e.g. the GMD of one filament's share of a
    rectangular conductor (see :func:`rect_gmd`). Segment weights (turns, filament fractions) are
    the currents per ampere; the result is the flux linkage per ampere of coil current.
    Cost O(S²) in blocks of ``block`` pairs: ~1–2 µs per pair on one core (measured 0.9 s for
    1,158 segments, 6 s for 3,452).
    """
    start, u, length, weight = _segments(coil, "self_inductance")
    if (wire_radius is None) == (gmd is None):
        raise CoilError("give exactly one of wire_radius (m) or gmd (m)")
    g = _check_gmd(round_wire_gmd(wire_radius, current) if gmd is None else gmd, len(start))
    short = length < 0.5 * g / ROUND_WIRE_GMD["uniform"]
    if short.any():
        raise CoilError(f"coil {coil.name!r}: {int(short.sum())} segment(s) shorter than half the wire radius "
                        f"(shortest {length.min():.3g} m): the thin-wire self term needs l > a/2; "
                        "use fewer segments per turn or thinner filaments")
    own = float(np.sum(weight**2 * 2.0 * length * (np.log(2.0 * length / g) - 1.0)))
    pairs = _block_sum((start, u, length, weight), (start, u, length, weight), True, block)
    value = MU0_OVER_4PI * (own + pairs)
    log.debug("self_inductance %r: %d segments, L = %.6g H", coil.name, len(start), value)
    return value


def mutual_inductance(coil_a, coil_b, *, block: int = BLOCK_PAIRS) -> float:
    """Mutual inductance (H) between two wire-segment coils (no segment may overlap another)."""
    a = _segments(coil_a, "mutual_inductance")
    b = _segments(coil_b, "mutual_inductance")
    return MU0_OVER_4PI * _block_sum(a, b, False, block)
