"""First-order (P1) tetrahedral finite elements for ∇·σ(∇φ + ∂A/∂t) = 0.

Weak form with the natural (insulating) boundary condition on the outer surface:
∫ σ ∇v·∇φ = −∫ σ ∇v·∂A/∂t for all P1 test functions v, with ∂A/∂t interpolated linearly
from its nodal values. Everything is vectorised over elements.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def element_stiffness(grads: np.ndarray, volumes: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Element stiffness matrices σ V ∇λ_i·∇λ_j (M, 4, 4) in S·m, from basis gradients
    (M, 4, 3) in 1/m, volumes (M,) in m³ and conductivities (M,) in S/m."""
    return (sigma * volumes)[:, None, None] * np.einsum("mik,mjk->mij", grads, grads)


def assemble(tets: np.ndarray, local: np.ndarray, n_nodes: int) -> sp.csr_matrix:
    """Sum element matrices ``local`` (M, 4, 4) into a CSR matrix (n_nodes, n_nodes)."""
    rows = np.repeat(tets, 4, axis=1).ravel()
    cols = np.tile(tets, (1, 4)).ravel()
    return sp.csr_matrix((local.ravel(), (rows, cols)), shape=(n_nodes, n_nodes))


def load_vector(tets, grads, volumes, sigma, dadt_nodes, n_nodes: int) -> np.ndarray:
    """Right-hand side −∫σ∇λ_i·∂A/∂t (A), shape (N,), for nodal ∂A/∂t (N, 3) in V/m.

    With ∂A/∂t linear on each element, its integral is volume × the mean of its 4 nodes.
    """
    mean_dadt = dadt_nodes[tets].mean(axis=1)                              # (M, 3)
    local = -(sigma * volumes)[:, None] * np.einsum("mik,mk->mi", grads, mean_dadt)
    return np.bincount(tets.ravel(), weights=local.ravel(), minlength=n_nodes)


def element_field(tets, grads, phi, dadt_nodes) -> np.ndarray:
    """E = −∇φ − ∂A/∂t per element (V/m), shape (M, 3); ∂A/∂t averaged over the 4 nodes."""
    grad_phi = np.einsum("mik,mi->mk", grads, phi[tets])
    return -grad_phi - dadt_nodes[tets].mean(axis=1)


def nodal_average(tets, volumes, element_values, n_nodes: int) -> np.ndarray:
    """Volume-weighted average of per-element vectors (M, 3) at the nodes, shape (N, 3)."""
    w = np.repeat(volumes, 4)
    idx = tets.ravel()
    total = np.stack([np.bincount(idx, weights=w * np.repeat(element_values[:, k], 4), minlength=n_nodes)
                      for k in range(element_values.shape[1])], axis=1)
    return total / np.bincount(idx, weights=w, minlength=n_nodes)[:, None]
