"""Closed-form fields of magnetic dipoles and straight current segments (per ampere).

Each kernel takes target points ``r`` and source arrays that broadcast against each other
(e.g. ``r[:, None]`` against ``src[None]``) and returns the contribution of each
(target, source) pair, shape (..., 3), *without* the μ0/4π factor. Only ``xp`` calls are
used, so the same code runs on numpy and cupy.
"""
from __future__ import annotations


def _cross(xp, a, b):
    return xp.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def dipole_b(xp, r, pos, moment):
    """3R(m·R)/|R|⁵ − m/|R|³ (magnetic flux density of a dipole / (μ0/4π))."""
    d = r - pos
    r2 = xp.sum(d * d, axis=-1)
    inv_r3 = r2 ** -1.5
    m_dot = xp.sum(moment * d, axis=-1)
    return (3.0 * (m_dot * inv_r3 / r2)[..., None] * d - moment * inv_r3[..., None])


def segment_a(xp, r, start, end, weight):
    """Exact ∫ dl / |r − l| over the straight segment start→end, times ``weight`` (current)."""
    r1 = xp.sqrt(xp.sum((r - start) ** 2, axis=-1))
    r2 = xp.sqrt(xp.sum((r - end) ** 2, axis=-1))
    edge = end - start
    length = xp.sqrt(xp.sum(edge * edge, axis=-1))
    s = r1 + r2
    factor = weight * xp.log((s + length) / (s - length)) / length
    return edge * factor[..., None]


def segment_b(xp, r, start, end, weight):
    """Exact Biot–Savart integral of the segment: (L × R1)·2(|R1|+|R2|)/(|R1||R2|((|R1|+|R2|)²−L²))."""
    d1 = r - start
    r1 = xp.sqrt(xp.sum(d1 * d1, axis=-1))
    r2 = xp.sqrt(xp.sum((r - end) ** 2, axis=-1))
    edge = end - start
    s = r1 + r2
    factor = weight * 2.0 * s / (r1 * r2 * (s * s - xp.sum(edge * edge, axis=-1)))
    return _cross(xp, edge, d1) * factor[..., None]
