"""Vectorised FEM forms for ∇·σ(∇φ + ∂A/∂t) = 0 on P1/P2 spaces, on any array backend.

Weak form with the natural (insulating) boundary condition on the outer surface:
∫ σ∇v·∇φ = −∫ σ∇v·∂A/∂t for all test functions v, with ∂A/∂t interpolated in the same
space from its values at the DOF points. σ is a scalar (M,) or a tensor (M, 3, 3) per element.
Element matrices are computed for all elements at once (one small dense product); the load
vector runs in batches of ``CHUNK`` elements to bound its temporaries.

Every function works on the arrays of a :class:`Discretisation`, which lives on one backend
(numpy, cupy or the device emulation; core/backend.py): the same code assembles and evaluates
on the CPU and on a GPU, and returns arrays of that backend.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.backend import Backend, get_backend

#: elements per load-vector batch: bounds its temporaries to ~100–300 MB for P2
CHUNK = 100_000


@dataclasses.dataclass(frozen=True, eq=False)
class Discretisation:
    """The arrays of a FEM space on one backend.

    Attributes: ``be`` (Backend); ``element`` (LagrangeTet); ``cell_dofs`` (M, 4|10) int32;
    ``grad_lambda`` (M, 4, 3) barycentric gradients 1/m; ``volumes`` (M,) m³; ``sigma`` (M,) or
    (M, 3, 3) S/m, or None where only fields are evaluated; ``n_dofs``.
    """
    be: Backend
    element: object
    cell_dofs: object
    grad_lambda: object
    volumes: object
    sigma: object
    n_dofs: int

    @classmethod
    def on(cls, space, head, sigma=None, backend="cpu") -> Discretisation:
        """``space``'s arrays on ``head`` copied to ``backend`` (a name or Backend)."""
        be = get_backend(backend)
        up = be.asarray
        return cls(be, space.element, up(space.cell_dofs.astype(np.int32)), up(head.basis_gradients),
                   up(head.volumes), None if sigma is None else up(sigma), space.n_dofs)


def sigma_times(xp, sigma, vectors):
    """σ·v per element: scalar σ (M,) or tensor σ (M, 3, 3) times vectors (M, …, 3)."""
    if sigma.ndim == 1:
        return sigma.reshape((-1,) + (1,) * (vectors.ndim - 1)) * vectors
    return xp.einsum("mij,m...j->m...i", sigma, vectors)


def stiffness(d: Discretisation, ground: int | None = None):
    """Global stiffness matrix (n_dofs, n_dofs), CSR of ``d``'s backend, in S·m: ∫ σ∇N_k·∇N_l.

    With ∇N_k = Σ_a ∂N_k/∂λ_a ∇λ_a, the element matrix is V Σ_ab (∇λ_a·σ∇λ_b) C_ab,kl where
    C is a constant reference tensor, so assembly is one (M, 16) × (16, nb²) product.
    ``ground``: that DOF's row and column are replaced by the identity's (φ[ground] = 0 when
    the load there is zero), which leaves the matrix symmetric positive definite.
    """
    xp = d.be.xp
    el, quad = d.element, d.element.stiffness_quadrature
    nb = el.n_basis
    lam = el.dlambda(quad.points)                                             # (Q, nb, 4)
    ref = xp.asarray(np.einsum("q,qka,qlb->abkl", quad.weights, lam, lam).reshape(16, nb * nb))
    g = d.grad_lambda
    metric = xp.matmul(sigma_times(xp, d.sigma, g), g.transpose(0, 2, 1))          # (M, 4, 4)
    data = ((metric.reshape(-1, 16) @ ref) * d.volumes[:, None]).ravel()
    rows = xp.repeat(d.cell_dofs, nb, axis=1).ravel()
    cols = xp.tile(d.cell_dofs, (1, nb)).ravel()
    if ground is not None:
        data = xp.where((rows == ground) | (cols == ground), 0.0, data)
        data = xp.concatenate([data, xp.ones(1)])
        rows = xp.concatenate([rows, xp.full(1, ground, dtype=rows.dtype)])
        cols = xp.concatenate([cols, xp.full(1, ground, dtype=cols.dtype)])
    matrix = d.be.sparse.coo_matrix((data, (rows, cols)), shape=(d.n_dofs, d.n_dofs)).tocsr()
    matrix.sum_duplicates()
    return matrix


def load_vector(d: Discretisation, dadt):
    """Right-hand side −∫ σ∇N_k·∂A/∂t (A), shape (n_dofs,), from ∂A/∂t at the DOF points
    (n_dofs, 3) in V/m (an array of ``d``'s backend), interpolated in the same space; exact
    quadrature, done as a reference tensor B[a, j, k] = ∫ ∂N_k/∂λ_a N_j contracted with
    σ∇λ_a·a_j."""
    xp = d.be.xp
    el, quad = d.element, d.element.load_quadrature
    ref = xp.asarray(np.einsum("q,qka,qj->ajk", quad.weights, el.dlambda(quad.points),
                               el.values(quad.points)).reshape(-1, el.n_basis))     # (4·nb, nb)
    out = xp.zeros(d.n_dofs)
    for s in range(0, len(d.volumes), CHUNK):
        sl = slice(s, s + CHUNK)
        dofs = d.cell_dofs[sl]
        pairs = xp.matmul(sigma_times(xp, d.sigma[sl], d.grad_lambda[sl]), dadt[dofs].transpose(0, 2, 1))  # (m, 4, nb)
        local = -(pairs.reshape(len(dofs), -1) @ ref) * d.volumes[sl, None]
        out += xp.bincount(dofs.ravel(), weights=local.ravel(), minlength=d.n_dofs)
    return out


def load_points(d: Discretisation, corners) -> np.ndarray:
    """The load rule's points in every element, (M·Q, 3) m, element by element (host arrays):
    where :func:`load_vector_at_rule` takes ∂A/∂t. ``corners`` (M, 4, 3) m: the elements'
    vertices."""
    return np.einsum("qa,mad->mqd", d.element.load_quadrature.points, corners).reshape(-1, 3)


def load_vector_at_rule(d: Discretisation, dadt):
    """Right-hand side −∫ σ∇N_k·∂A/∂t (A), (n_dofs,), from ∂A/∂t (V/m) at the load rule's points
    (M·Q, 3) (:func:`load_points`; an array of ``d``'s backend) instead of its interpolant: the
    rule integrates ∇N_k times the actual primary field."""
    xp = d.be.xp
    quad = d.element.load_quadrature
    q = len(quad.weights)
    ref = xp.asarray(quad.weights[:, None, None] * d.element.dlambda(quad.points))       # (Q, nb, 4)
    out = xp.zeros(d.n_dofs)
    for s in range(0, len(d.volumes), CHUNK):
        sl = slice(s, s + CHUNK)
        dofs = d.cell_dofs[sl]
        a = dadt[s * q:(s + len(dofs)) * q].reshape(len(dofs), q, 3)
        flux_dot_a = xp.einsum("mad,mqd->mqa", sigma_times(xp, d.sigma[sl], d.grad_lambda[sl]), a)   # σ∇λ_a·a_q
        local = -xp.einsum("mqa,qka->mk", flux_dot_a, ref) * d.volumes[sl, None]
        out += xp.bincount(dofs.ravel(), weights=local.ravel(), minlength=d.n_dofs)
    return out


def _per_point(d: Discretisation, elements):
    if elements is None:
        return d.cell_dofs, d.grad_lambda
    elements = d.be.asarray(elements)
    return d.cell_dofs[elements], d.grad_lambda[elements]


def _gradients(d: Discretisation, lam, grad_lambda):
    """Physical basis gradients (M, nb, 3) at barycentric ``lam`` (4,) or (M, 4), host or backend."""
    return d.be.xp.matmul(_on(d.be, d.element.dlambda, lam), grad_lambda)


def _on(be, function, lam):
    """``function`` of barycentric points (host, e.g. the shape functions) as a backend array;
    ``lam`` may be on the host or the backend."""
    return be.asarray(function(np.asarray(be.to_numpy(lam), float)))


def gradient_at(d: Discretisation, phi, lam, elements=None):
    """∇φ (V/m) at barycentric points ``lam`` (host array): (4,) in every element, or (P, 4)
    with ``elements`` (P,) naming each point's element. ``phi`` (n_dofs,) is an array of
    ``d``'s backend; returns (M or P, 3) on it."""
    dofs, g = _per_point(d, elements)
    return d.be.xp.einsum("mki,mk->mi", _gradients(d, lam, g), phi[dofs])


def interpolate_at(d: Discretisation, values, lam, elements=None):
    """Interpolant of DOF vectors ``values`` (n_dofs, 3) at barycentric points, as gradient_at."""
    dofs, _ = _per_point(d, elements)
    n = _on(d.be, d.element.values, lam)
    return d.be.xp.einsum("k,mki->mi" if n.ndim == 1 else "mk,mki->mi", n, values[dofs])


def field_at(d: Discretisation, phi, dadt, lam, elements=None):
    """E = −∇φ − ∂A/∂t (V/m) at barycentric points, as gradient_at."""
    return -gradient_at(d, phi, lam, elements) - interpolate_at(d, dadt, lam, elements)


def dipole_load(d: Discretisation, element: int, bary, moments):
    """Right-hand sides g (n_dofs, K) for K current dipoles ``moments`` (K, 3) A·m at one point
    with barycentric coordinates ``bary`` (4,) in ``element``: g_k = p·∇N_k(r0)."""
    xp = d.be.xp
    grads = _gradients(d, np.asarray(bary, float)[None], d.grad_lambda[element:element + 1])[0]   # (nb, 3)
    local = grads @ d.be.asarray(np.asarray(moments, float)).T                                     # (nb, K)
    out = xp.zeros((d.n_dofs, local.shape[1]))
    out[d.cell_dofs[element]] = local
    return out
