"""FEMSolver: assemble and precondition once per head, then solve many coil placements."""
from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from ...core.progress import progress, timed
from ..provenance import base_provenance
from ..result import FieldResult
from . import p1
from .linear import DEFAULT_TOL, GroundedAMGSolver

log = logging.getLogger("tmsfield")


class FEMSolver:
    """First-order FEM for the TMS-induced field on one head.

    Parameters
    ----------
    head : HeadMesh.
    conductivities : optional {tag: S/m} overriding the SimNIBS defaults.
    tol : relative residual at which CG stops.
    """
    method = "fem"

    def __init__(self, head, *, conductivities: Mapping[int, float] | None = None,
                 tol: float = DEFAULT_TOL):
        self.head, self.timings = head, {}
        self.conductivities = dict(conductivities or {})
        with timed(self.timings, "assembly"):
            self.sigma = head.conductivity(self.conductivities)
            local = p1.element_stiffness(head.basis_gradients, head.volumes, self.sigma)
            matrix = p1.assemble(head.tets, local, head.n_nodes)
        with timed(self.timings, "preconditioner"):
            self.linear = GroundedAMGSolver(matrix, ground=0, tol=tol)
        log.info("FEM P1 set up on %d tetrahedra in %.2f s", head.n_tets, sum(self.timings.values()))

    def solve(self, coil, pose, *, didt=1e6, method: str = "auto", backend="auto") -> FieldResult:
        """FieldResult for ``coil`` at ``pose`` with current slope ``didt`` (A/s, or one per
        stimulator). ``method``/``backend`` choose how the primary field is evaluated."""
        head, timings = self.head, dict(self.timings)
        with timed(timings, "primary field"):
            dadt = coil.dadt(head.nodes, pose, didt=didt, method=method, backend=backend)
        with timed(timings, "solve"):
            rhs = p1.load_vector(head.tets, head.basis_gradients, head.volumes, self.sigma, dadt,
                                 head.n_nodes)
            phi, info = self.linear.solve(rhs)
        with timed(timings, "field recovery"):
            E = p1.element_field(head.tets, head.basis_gradients, phi, dadt)
            grad_phi_nodes = p1.nodal_average(head.tets, head.volumes, -E - dadt[head.tets].mean(axis=1),
                                              head.n_nodes)
            E_nodes = -grad_phi_nodes - dadt
        log.info("FEM solve: %d CG iterations, residual %.1e", info.iterations, info.residual)
        provenance = base_provenance(head, coil, self.conductivities)
        provenance["solver"] = {"method": "fem", "order": 1, "tol": info.tol,
                                "iterations": info.iterations, "residual": info.residual,
                                "preconditioner": "pyamg smoothed aggregation, V-cycle"}
        return FieldResult(head=head, E=E, E_nodes=E_nodes, phi=phi, sigma=self.sigma, pose=pose,
                           didt=tuple(float(v) for v in np.atleast_1d(didt)), provenance=provenance,
                           timings=timings)

    def solve_many(self, coil, poses, *, didt=1e6, method: str = "auto", backend="auto",
                   verbose: bool = True) -> list[FieldResult]:
        """One FieldResult per pose in ``poses``, reusing the assembly and preconditioner,
        with a progress bar (silenced by ``verbose=False``)."""
        return [self.solve(coil, pose, didt=didt, method=method, backend=backend)
                for pose in progress(poses, desc="placements", verbose=verbose)]
