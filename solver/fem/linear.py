"""Grounded, AMG-preconditioned conjugate gradients for the FEM system (CPU, pyamg)."""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...core.errors import TmsFieldError

log = logging.getLogger("tmsfield")

#: default relative residual ‖b − Kx‖/‖b‖ at which CG stops (SimNIBS uses the same). The
#: validation study (fem_sphere.md) checks the error against tolerances from 1e-4 to
#: 1e-10 for P1 and P2: at 1e-10 the solver never limits accuracy.
DEFAULT_TOL = 1e-10
MAX_ITER = 1000


@dataclasses.dataclass
class SolveInfo:
    """Convergence record of one solve."""
    iterations: int
    residual: float
    tol: float


class GroundedAMGSolver:
    """Solves K φ = b with φ[ground] = 0 by CG, preconditioned with smoothed-aggregation AMG.

    The hierarchy is built once; :meth:`solve` can be called for many right-hand sides.
    """

    def __init__(self, matrix: sp.csr_matrix, ground: int = 0, tol: float = DEFAULT_TOL):
        import pyamg
        if not 0 < tol < 1:
            raise TmsFieldError(f"solver tolerance must be in (0, 1), got {tol}")
        n = matrix.shape[0]
        self.keep = np.delete(np.arange(n), ground)
        self.n, self.tol = n, tol
        self.matrix = matrix.tocsr()[self.keep][:, self.keep].tocsr()
        self.hierarchy = pyamg.smoothed_aggregation_solver(self.matrix, symmetry="symmetric",
                                                           max_coarse=500)
        self.preconditioner = self.hierarchy.aspreconditioner(cycle="V")
        log.debug("AMG hierarchy: %s", self.hierarchy)

    def solve(self, rhs: np.ndarray, x0: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Solution φ (N,) with φ[ground] = 0, and its :class:`SolveInfo`."""
        b = rhs[self.keep]
        norm_b = np.linalg.norm(b)
        phi = np.zeros(self.n)
        if norm_b == 0:
            return phi, SolveInfo(0, 0.0, self.tol)
        iterations = 0

        def count(_):
            nonlocal iterations
            iterations += 1

        x, status = spla.cg(self.matrix, b, x0=None if x0 is None else x0[self.keep], rtol=self.tol,
                            atol=0.0, maxiter=MAX_ITER, M=self.preconditioner, callback=count)
        residual = float(np.linalg.norm(b - self.matrix @ x) / norm_b)
        if status != 0 and residual > 10 * self.tol:
            raise TmsFieldError(f"CG did not converge: relative residual {residual:.2e} after "
                                f"{iterations} iterations (tolerance {self.tol:.0e}); check the mesh quality")
        phi[self.keep] = x
        return phi, SolveInfo(iterations, residual, self.tol)
