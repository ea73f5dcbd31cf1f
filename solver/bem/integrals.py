"""Closed-form potential and field of uniformly charged flat triangles (array-module agnostic).

For a triangle T and an observation point r (Wilton et al. 1984, IEEE TAP 32:276; Graglia
1993, IEEE TAP 41:1448), with h the signed height of r over T's plane (along the unit normal
n), and for each edge i: unit tangent l_i, in-plane outward normal m_i = l_i × n, signed
distance t_i of r's projection from the edge line, s_i^± the endpoints' positions along l_i
relative to that projection, R_i^± the distances to the endpoints, R_i⁰² = t_i² + h²:

    ∫_T dS/R            = Σ_i t_i f_i − |h| β,
    ∫_T (r − r')/R³ dS  = Σ_i m_i f_i + sign(h) β n,

    f_i = ln[(R_i⁺ + s_i⁺)/(R_i⁻ + s_i⁻)],
    β   = Σ_i atan[t_i s_i⁺/(R_i⁰² + |h| R_i⁺)] − atan[t_i s_i⁻/(R_i⁰² + |h| R_i⁻)].

β is the solid angle T subtends at r (2π just above an interior point), and sign(0) = 0 gives
the principal value on T's plane. Every function takes pairs: row p of ``points`` with
triangle p, arrays (P, 3); ``xp`` is numpy or cupy.
"""
from __future__ import annotations

import numpy


def facet_geometry(xp, corners):
    """Per triangle of ``corners`` (K, 3, 3): unit normal (K, 3), unit edge tangents (K, 3, 3)
    and in-plane outward edge normals (K, 3, 3), edges in the order (a→b, b→c, c→a).
    Precompute it once per mesh and pass rows of it to :func:`field`/:func:`potential`."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    normal = xp.cross(b - a, c - a)
    normal /= xp.linalg.norm(normal, axis=1, keepdims=True)
    edges = xp.roll(corners, -1, axis=1) - corners
    tangent = edges / xp.linalg.norm(edges, axis=2, keepdims=True)
    return normal, tangent, xp.cross(tangent, normal[:, None, :])


def _edge_terms(xp, points, corners, geometry=None):
    """Per edge: (m_i, t_i, f_i, β_i) and (n, h) for triangles ``corners`` (P, 3, 3)."""
    normal, tangents, outwards = facet_geometry(xp, corners) if geometry is None else geometry
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    h = xp.einsum("pi,pi->p", points - a, normal)
    abs_h = xp.abs(h)
    foot = points - h[:, None] * normal
    terms = []
    for i, (start, end) in enumerate(((a, b), (b, c), (c, a))):
        tangent, outward = tangents[:, i], outwards[:, i]
        t = xp.einsum("pi,pi->p", start - foot, outward)
        s_minus = xp.einsum("pi,pi->p", start - foot, tangent)
        s_plus = xp.einsum("pi,pi->p", end - foot, tangent)
        r_minus = xp.linalg.norm(points - start, axis=1)
        r_plus = xp.linalg.norm(points - end, axis=1)
        r0_sq = t * t + h * h
        # (R + s)(R − s) = R0²: take the form without cancellation on each side of the foot
        ahead = s_plus + s_minus >= 0
        with numpy.errstate(divide="ignore", invalid="ignore"):   # points on an edge line
            f = xp.where(ahead, xp.log((r_plus + s_plus) / (r_minus + s_minus)),
                         xp.log((r_minus - s_minus) / (r_plus - s_plus)))
            beta = (xp.arctan2(t * s_plus, r0_sq + abs_h * r_plus)
                    - xp.arctan2(t * s_minus, r0_sq + abs_h * r_minus))
        terms.append((outward, t, f, beta))
    return terms, normal, h


def potential(xp, points, corners, geometry=None):
    """∫_T dS'/|r − r'| (m) for each (point, triangle) pair; points (P, 3), corners (P, 3, 3);
    ``geometry``: the pairs' rows of :func:`facet_geometry` (computed here when None)."""
    terms, _, h = _edge_terms(xp, points, corners, geometry)
    total = xp.zeros(len(points))
    beta = xp.zeros(len(points))
    for _, t, f, b in terms:
        total += xp.where(t == 0, 0.0, t * xp.nan_to_num(f, nan=0.0, posinf=0.0))
        beta += b
    return total - xp.abs(h) * beta


def field(xp, points, corners, geometry=None):
    """∫_T (r − r')/|r − r'|³ dS' (dimensionless) for each pair, shape (P, 3); its normal
    part is the principal value on the triangle's own plane. ``geometry`` as for potential."""
    terms, normal, h = _edge_terms(xp, points, corners, geometry)
    total = xp.zeros_like(points)
    beta = xp.zeros(len(points))
    for outward, _, f, b in terms:
        total += outward * f[:, None]
        beta += b
    return total + (xp.sign(h) * beta)[:, None] * normal
