"""Continuous Lagrange function spaces (P1, P2) on a tetrahedral HeadMesh: DOF numbering."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...head_models.geometry import unique_edges
from .elements import P2_EDGES, LagrangeTet, element


@dataclasses.dataclass(frozen=True, eq=False)
class FunctionSpace:
    """DOFs of a P1/P2 space.

    Attributes: ``element`` (LagrangeTet); ``cell_dofs`` (M, 4|10) global DOF per local basis
    function; ``dof_points`` (n_dofs, 3) coordinates in m (vertices first, then edge
    midpoints for P2).
    """
    element: LagrangeTet
    cell_dofs: np.ndarray
    dof_points: np.ndarray

    @property
    def n_dofs(self) -> int:
        return len(self.dof_points)

    @property
    def order(self) -> int:
        return self.element.order

    def prolongation_from_p1(self):
        """Sparse (n_dofs, n_vertices) embedding of P1 functions in this space: vertex DOFs
        copy, P2 edge DOFs take the mean of their two vertices."""
        import scipy.sparse as sp
        n1 = int(self.cell_dofs[:, :4].max()) + 1
        if self.order == 1:
            return sp.identity(n1, format="csr")
        edge_dofs = self.cell_dofs[:, 4:].ravel()
        ends = self.cell_dofs[:, :4][:, P2_EDGES].reshape(-1, 2)
        first = np.unique(edge_dofs, return_index=True)[1]
        rows = np.concatenate([np.arange(n1), np.repeat(edge_dofs[first], 2)])
        cols = np.concatenate([np.arange(n1), ends[first].ravel()])
        vals = np.concatenate([np.ones(n1), np.full(2 * len(first), 0.5)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(self.n_dofs, n1))

    @classmethod
    def on(cls, head, order: int) -> FunctionSpace:
        """The order-``order`` space on ``head``'s tetrahedra."""
        el = element(order)
        if order == 1:
            return cls(el, head.tets, head.nodes)
        unique, inverse = unique_edges(head.tets, return_inverse=True)
        edge_dofs = head.n_nodes + inverse
        midpoints = 0.5 * (head.nodes[unique[:, 0]] + head.nodes[unique[:, 1]])
        return cls(el, np.hstack([head.tets, edge_dofs]), np.vstack([head.nodes, midpoints]))
