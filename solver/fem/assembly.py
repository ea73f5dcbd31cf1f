"""Vectorised FEM forms for ∇·σ(∇φ + ∂A/∂t) = 0 on P1/P2 spaces.

Weak form with the natural (insulating) boundary condition on the outer surface:
∫ σ∇v·∇φ = −∫ σ∇v·∂A/∂t for all test functions v, with ∂A/∂t interpolated in the same
space from its values at the DOF points. σ is a scalar (M,) or a tensor (M, 3, 3) per element.
Element matrices are computed for all elements at once (one small dense product); the load
vector runs in batches of ``CHUNK`` elements to bound its temporaries.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: elements per load-vector batch: bounds its temporaries to ~100–300 MB for P2
CHUNK = 100_000


def _flux(sigma: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """σ·v per element: scalar σ (M,) or tensor σ (M, 3, 3) times vectors (M, …, 3)."""
    if sigma.ndim == 1:
        return sigma.reshape((-1,) + (1,) * (vectors.ndim - 1)) * vectors
    return np.einsum("mij,m...j->m...i", sigma, vectors)


def stiffness(space, grad_lambda, volumes, sigma) -> sp.csr_matrix:
    """Global stiffness matrix (n_dofs, n_dofs) in S·m: ∫ σ∇N_k·∇N_l.

    With ∇N_k = Σ_a ∂N_k/∂λ_a ∇λ_a, the element matrix is V Σ_ab (∇λ_a·σ∇λ_b) C_ab,kl where
    C is a constant reference tensor, so assembly is one (M, 16) × (16, nb²) product.
    """
    el, quad = space.element, space.element.stiffness_quadrature
    nb = el.n_basis
    d = el.dlambda(quad.points)                                   # (Q, nb, 4)
    ref = np.einsum("q,qka,qlb->abkl", quad.weights, d, d).reshape(16, nb * nb)
    metric = np.matmul(_flux(sigma, grad_lambda), grad_lambda.transpose(0, 2, 1))   # (M, 4, 4)
    data = (metric.reshape(-1, 16) @ ref) * volumes[:, None]
    dofs = space.cell_dofs.astype(np.int32)
    rows = np.repeat(dofs, nb, axis=1).ravel()
    cols = np.tile(dofs, (1, nb)).ravel()
    return sp.csr_matrix((data.ravel(), (rows, cols)), shape=(space.n_dofs, space.n_dofs))


def load_vector(space, grad_lambda, volumes, sigma, dadt) -> np.ndarray:
    """Right-hand side −∫ σ∇N_k·∂A/∂t (A), shape (n_dofs,), from ∂A/∂t at the DOF points
    (n_dofs, 3) in V/m, interpolated in the same space; exact quadrature, done as a
    reference tensor B[a, j, k] = ∫ ∂N_k/∂λ_a N_j contracted with σ∇λ_a·a_j."""
    el, quad = space.element, space.element.load_quadrature
    ref = np.einsum("q,qka,qj->ajk", quad.weights, el.dlambda(quad.points),
                    el.values(quad.points)).reshape(-1, el.n_basis)          # (4·nb, nb)
    out = np.zeros(space.n_dofs)
    for s in range(0, len(volumes), CHUNK):
        sl = slice(s, s + CHUNK)
        dofs = space.cell_dofs[sl]
        pairs = np.matmul(_flux(sigma[sl], grad_lambda[sl]), dadt[dofs].transpose(0, 2, 1))  # (m, 4, nb)
        local = -(pairs.reshape(len(dofs), -1) @ ref) * volumes[sl, None]
        out += np.bincount(dofs.ravel(), weights=local.ravel(), minlength=space.n_dofs)
    return out


def _per_point(space, grad_lambda, elements):
    if elements is None:
        return space.cell_dofs, grad_lambda
    return space.cell_dofs[elements], None if grad_lambda is None else grad_lambda[elements]


def gradient_at(space, grad_lambda, phi, lam, elements=None) -> np.ndarray:
    """∇φ (V/m) at barycentric points ``lam``: (4,) in every element, or (P, 4) with
    ``elements`` (P,) naming each point's element. Returns (M or P, 3)."""
    dofs, g = _per_point(space, grad_lambda, elements)
    return np.einsum("mki,mk->mi", space.element.gradients(lam, g), phi[dofs])


def interpolate_at(space, values, lam, elements=None) -> np.ndarray:
    """Interpolant of DOF vectors ``values`` (n_dofs, 3) at barycentric points, as gradient_at."""
    dofs, _ = _per_point(space, None, elements)
    n = space.element.values(np.asarray(lam, float))
    return np.einsum("k,mki->mi" if n.ndim == 1 else "mk,mki->mi", n, values[dofs])


def field_at(space, grad_lambda, phi, dadt, lam, elements=None) -> np.ndarray:
    """E = −∇φ − ∂A/∂t (V/m) at barycentric points, as gradient_at."""
    return -gradient_at(space, grad_lambda, phi, lam, elements) - interpolate_at(space, dadt, lam, elements)


def dipole_load(space, grad_lambda, element: int, bary, moments) -> np.ndarray:
    """Right-hand sides g (n_dofs, K) for K unit-less current dipoles ``moments`` (K, 3) A·m at
    one point with barycentric coordinates ``bary`` (4,) in ``element``: g_k = p·∇N_k(r0)."""
    grads = space.element.gradients(np.asarray(bary, float)[None], grad_lambda[[element]])[0]  # (nb, 3)
    local = grads @ np.asarray(moments, float).T                                             # (nb, K)
    out = np.zeros((space.n_dofs, local.shape[1]))
    out[space.cell_dofs[element]] = local
    return out
