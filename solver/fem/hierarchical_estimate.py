"""Hierarchical-basis error estimate of a P2 solve: the residual on the cubic surplus, diagonally scaled.

The potential's error e = φ − φ_h satisfies ∫σ∇e·∇v = −∫F_h·∇v for every v, where
F_h = σ(∇φ_h + a_h) is minus the discrete current density (a_h: ∂A/∂t interpolated in the P2
space, as the solver used it). The estimate takes v in W, the continuous cubic functions that
vanish at the P2 nodes: one per edge, λiλj(λi − λj) oriented from the lower to the higher node
number, and one bubble λiλjλk per face. With the residual r_i = −∫F_h·∇ψ_i and the diagonal
A_ii = ∫σ|∇ψ_i|², the error is approximated by e ≈ Σ_i (r_i / A_ii) ψ_i (Deuflhard, Leinen &
Yserentant 1989, IMPACT 1:3; Bank & Smith 1993, SINUM 30:921), and
η_K = (∫_K |∇e|² dV / V_K)^½ is the element's RMS error of E in V/m. All integrals are exact for
the polynomials involved (the degree-5 rule). No face integrals: W is continuous.

Measured effectivity (estimate / true error), validation/results/error_estimate.md: 3-layer
sphere, figure-8, against the analytic field, 1.35 / 1.53 / 1.78 / 1.77 at 10 / 8 / 6 / 4 mm
edges (per-element log-correlation 0.83-0.84); on the same sphere with an exactly known discrete
problem (∂A/∂t = ∇ of a cubic, whose potential the mesh carries exactly, no geometric error)
1.13 / 1.15 / 1.16 at 12 / 8 / 6 mm. Rejected on the way (same known problem): the full solve of
the surplus problem instead of its diagonal (1.23-1.24) and Bank–Weiser element-by-element
Neumann problems (1.67-1.69; 1.99-2.54 on the spheres).
"""
from __future__ import annotations

import numpy as np

from ...head_models.surfaces import face_ids
from . import assembly
from .elements import DEGREE5, P2_EDGES

#: elements per block (bounds the quadrature temporaries to ~100 MB)
BLOCK = 20_000
#: the vertex triples of the face bubbles, in the order of geometry.TET_FACES (opposite vertex 0..3)
BUBBLES = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def surplus_values(lam: np.ndarray) -> np.ndarray:
    """The 10 cubic surplus functions at barycentric points (…, 4) → (…, 10): edges then faces."""
    i, j = P2_EDGES.T
    edges = lam[..., i] * lam[..., j] * (lam[..., i] - lam[..., j])
    return np.concatenate([edges, lam[..., BUBBLES].prod(axis=-1)], axis=-1)


def surplus_dlambda(lam: np.ndarray) -> np.ndarray:
    """∂ψ_k/∂λ_a of the surplus functions at barycentric points (…, 4) → (…, 10, 4)."""
    out = np.zeros(lam.shape[:-1] + (10, 4))
    for e, (i, j) in enumerate(P2_EDGES):
        li, lj = lam[..., i], lam[..., j]
        out[..., e, i] = 2 * li * lj - lj ** 2
        out[..., e, j] = li ** 2 - 2 * li * lj
    for f, (i, j, k) in enumerate(BUBBLES):
        out[..., 6 + f, i] = lam[..., j] * lam[..., k]
        out[..., 6 + f, j] = lam[..., i] * lam[..., k]
        out[..., 6 + f, k] = lam[..., i] * lam[..., j]
    return out


def element_errors(head, space, sigma, phi, dadt) -> np.ndarray:
    """η_K (M,) V/m for the P2 potential ``phi`` (n_dofs,) V on ``space`` solved with the
    interpolated primary field ``dadt`` (n_dofs, 3) V/m and conductivities ``sigma`` (M,) or
    (M, 3, 3) S/m; numpy in and out."""
    if space.order != 2:
        raise ValueError(f"the hierarchical estimate is for P2 solves, got order {space.order}")
    d = assembly.Discretisation.on(space, head)
    n_edges = int(space.cell_dofs[:, 4:].max()) + 1 - head.n_nodes
    functions = np.hstack([space.cell_dofs[:, 4:] - head.n_nodes, n_edges + face_ids(head.tets)])   # (M, 10)
    first, second = head.tets[:, P2_EDGES[:, 0]], head.tets[:, P2_EDGES[:, 1]]
    signs = np.hstack([np.where(first < second, 1.0, -1.0), np.ones((head.n_tets, 4))])          # (M, 10)
    rule = DEGREE5
    slopes = surplus_dlambda(rule.points)                                                         # (Q, 10, 4)
    reference = np.einsum("q,qka,qlb->abkl", rule.weights, slopes, slopes).reshape(16, 100)
    weighted_slopes = rule.weights[:, None, None] * slopes
    residual, diagonal = np.empty((head.n_tets, 10)), np.empty((head.n_tets, 10))
    for start in range(0, head.n_tets, BLOCK):
        b = np.arange(start, min(start + BLOCK, head.n_tets))
        g, vol = head.basis_gradients[b], head.volumes[b]
        metric = np.matmul(g, assembly.sigma_times(np, sigma[b], g).transpose(0, 2, 1))     # ∇λ_a·σ∇λ_b
        diagonal[b] = vol[:, None] * np.einsum("mab,abkk->mk", metric, reference.reshape(4, 4, 10, 10))
        residual[b] = 0.0
        for lam, weighted in zip(rule.points, weighted_slopes):
            flux = -assembly.sigma_times(np, sigma[b], assembly.field_at(d, phi, dadt, lam, b))   # F_h (m, 3)
            residual[b] -= vol[:, None] * np.einsum("md,mad,ka->mk", flux, g, weighted)          # −∫F_h·∇ψ_k
    n_functions = int(functions.max()) + 1
    r = np.bincount(functions.ravel(), (signs * residual).ravel(), minlength=n_functions)
    a = np.bincount(functions.ravel(), diagonal.ravel(), minlength=n_functions)
    coefficients = signs * (r / a)[functions]                                                   # (M, 10)
    eta = np.empty(head.n_tets)
    for start in range(0, head.n_tets, BLOCK):
        b = slice(start, start + BLOCK)
        g = head.basis_gradients[b]
        unit = (np.matmul(g, g.transpose(0, 2, 1)).reshape(-1, 16) @ reference).reshape(-1, 10, 10)   # ∫|∇ψ|²/V
        eta[b] = np.sqrt(np.einsum("mk,mkl,ml->m", coefficients[b], unit, coefficients[b]))
    return eta
