"""Analytic TMS field in a spherically symmetric conductor (Heller & van Hulsteyn 1992).

For magnetic dipoles outside any spherically symmetric conductor centred at the origin, the
total induced field inside is independent of the conductivity profile:

    E(r) = −(μ0/4π) dI/dt / F² · [F (r × m) − (m·∇F)(r × r0)],
    F = a (r0 a + r0·a),  a = r0 − r,  a = |a|,  r0 = |r0|,
    ∇F = (a²/r0 + a·r0/a + 2a + 2r0) r0 − (a + 2r0 + a·r0/a) r,

with m the dipole moment per ampere (A·m²/A) at r0. Heller L, van Hulsteyn DB (1992),
Biophys J 63:129–138. Independent checks in tests: r·E = 0 and curl E = −dB/dt.
"""
from __future__ import annotations

import numpy as np

from ..core.units import MU0_OVER_4PI


def sphere_e_field(points, dipole_positions, dipole_moments, didt: float = 1.0,
                   center=(0.0, 0.0, 0.0), chunk: int = 1 << 20) -> np.ndarray:
    """Total E (V/m), shape (P, 3), at ``points`` (P, 3) m inside a sphere centred at
    ``center``, for dipoles (D, 3) m with moments (D, 3) A·m²/A and coil dI/dt (A/s)."""
    center = np.asarray(center, float)
    r = np.atleast_2d(np.asarray(points, float)) - center
    pos = np.atleast_2d(np.asarray(dipole_positions, float)) - center
    mom = np.atleast_2d(np.asarray(dipole_moments, float))
    out = np.zeros_like(r)
    block = max(1, chunk // max(len(r), 1))
    for s in range(0, len(pos), block):
        r0, m = pos[s:s + block, None, :], mom[s:s + block, None, :]
        a = r0 - r[None]
        na = np.linalg.norm(a, axis=-1, keepdims=True)
        nr0 = np.linalg.norm(r0, axis=-1, keepdims=True)
        a_dot_r0 = np.sum(a * r0, axis=-1, keepdims=True)
        F = na * (nr0 * na + a_dot_r0)
        grad_F = (na**2 / nr0 + a_dot_r0 / na + 2 * na + 2 * nr0) * r0 - (na + 2 * nr0 + a_dot_r0 / na) * r[None]
        m_dot = np.sum(m * grad_F, axis=-1, keepdims=True)
        term = F * np.cross(r[None], m) - m_dot * np.cross(r[None], r0)
        out -= (term / F**2).sum(axis=0)
    return MU0_OVER_4PI * didt * out


def relative_l2(E, E_ref, weights=None) -> float:
    """‖E − E_ref‖ / ‖E_ref‖ over rows, optionally weighted (e.g. by element volume)."""
    w = np.ones(len(E)) if weights is None else np.asarray(weights, float)
    err = np.sum(w * np.sum((E - E_ref) ** 2, axis=1))
    return float(np.sqrt(err / np.sum(w * np.sum(E_ref**2, axis=1))))
