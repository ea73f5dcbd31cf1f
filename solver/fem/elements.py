"""Lagrange tetrahedra of order 1 (4 nodes) and 2 (10 nodes) in barycentric form,
with the quadrature rules that integrate their forms exactly.

Shape functions are written in barycentric coordinates λ (…, 4); physical gradients are
∇N_k = Σ_a ∂N_k/∂λ_a ∇λ_a with ∇λ the (M, 4, 3) barycentric gradients of each element.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ...head_models.geometry import TET_EDGES as P2_EDGES  # P2 edge nodes, DOF order follows it


@dataclasses.dataclass(frozen=True)
class Quadrature:
    """Barycentric points (Q, 4) and weights (Q,) summing to 1 (multiply by the volume)."""
    points: np.ndarray
    weights: np.ndarray


def _permutations(values) -> np.ndarray:
    from itertools import permutations
    return np.array(sorted(set(permutations(values))), dtype=float)


#: exact for polynomials of degree 1 (the centroid)
CENTROID = Quadrature(np.full((1, 4), 0.25), np.ones(1))
#: exact for degree 2 (4 points)
DEGREE2 = Quadrature(_permutations([0.5854101966249685, 0.1381966011250105, 0.1381966011250105,
                                    0.1381966011250105]), np.full(4, 0.25))
#: exact for degree 3 (Keast 1986, 5 points; one negative weight)
DEGREE3 = Quadrature(np.vstack([np.full((1, 4), 0.25), _permutations([0.5, 1 / 6, 1 / 6, 1 / 6])]),
                     np.array([-0.8] + [0.45] * 4))

#: exact for degree 5 (14 points, all weights positive; Walkington 2000 / Keast-type symmetric rule)
DEGREE5 = Quadrature(
    np.vstack([_permutations([0.0455037041256496, 0.0455037041256496, 0.4544962958743504, 0.4544962958743504]),
               _permutations([0.0927352503108912, 0.0927352503108912, 0.0927352503108912, 0.7217942490673264]),
               _permutations([0.3108859192633006, 0.3108859192633006, 0.3108859192633006, 0.0673422422100982])]),
    6 * np.repeat([0.007091003462846911, 0.01224884051939366, 0.01878132095300264], [6, 4, 4]))


@dataclasses.dataclass(frozen=True)
class LagrangeTet:
    """Order-``order`` Lagrange tetrahedron: ``n_basis`` 4 or 10 functions."""
    order: int

    @property
    def n_basis(self) -> int:
        return 4 if self.order == 1 else 10

    @property
    def stiffness_quadrature(self) -> Quadrature:
        """Rule exact for the stiffness integrand ∇N·σ∇N (degree 2(p-1))."""
        return CENTROID if self.order == 1 else DEGREE2

    @property
    def load_quadrature(self) -> Quadrature:
        """Rule exact for the load ∇N·σ∂A/∂t with P_p-interpolated ∂A/∂t (degree 2p-1)."""
        return CENTROID if self.order == 1 else DEGREE3

    def values(self, lam: np.ndarray) -> np.ndarray:
        """Shape functions at barycentric points (…, 4) → (…, n_basis)."""
        if self.order == 1:
            return lam
        i, j = P2_EDGES.T
        return np.concatenate([lam * (2 * lam - 1), 4 * lam[..., i] * lam[..., j]], axis=-1)

    def dlambda(self, lam: np.ndarray) -> np.ndarray:
        """∂N_k/∂λ_a at barycentric points (…, 4) → (…, n_basis, 4)."""
        lam = np.asarray(lam, float)
        if self.order == 1:
            return np.broadcast_to(np.eye(4), lam.shape[:-1] + (4, 4)).copy()
        out = np.zeros(lam.shape[:-1] + (10, 4))
        for a in range(4):
            out[..., a, a] = 4 * lam[..., a] - 1
        for e, (i, j) in enumerate(P2_EDGES):
            out[..., 4 + e, i] = 4 * lam[..., j]
            out[..., 4 + e, j] = 4 * lam[..., i]
        return out

    def gradients(self, lam: np.ndarray, grad_lambda: np.ndarray) -> np.ndarray:
        """Physical gradients (M, n_basis, 3) at one barycentric point per element (M, 4) or a
        single point (4,), from barycentric gradients (M, 4, 3)."""
        return np.matmul(self.dlambda(lam), grad_lambda)   # (nb, 4) or (M, nb, 4) @ (M, 4, 3)


@functools.lru_cache(maxsize=2)
def element(order: int) -> LagrangeTet:
    """The Lagrange tetrahedron of ``order`` 1 or 2."""
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    return LagrangeTet(order)
