"""FEMSolver: assemble and precondition once per head, then solve many coil placements."""
from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

import numpy as np

from ...core.progress import timed
from ...head_models.tissues import check_tensors
from ..placements import PlacementSolver, checked_field, checked_primary, placement_inputs
from ..provenance import base_provenance
from ..recovery import PatchRecovery
from ..result import FieldResult
from . import assembly
from .elements import CENTROID
from .linear import DEFAULT_TOL, GroundedAMGSolver
from .space import FunctionSpace

log = logging.getLogger("tmsfield")

#: the element order used when none is given: P2, which the study (validation/results/fem_sphere.md)
#: shows reaching any error below P1's reach, and P1's errors, in less time
DEFAULT_ORDER = 2


class FEMSolver(PlacementSolver):
    """Finite elements of order 1 or 2 for the TMS-induced field on one head.

    Parameters
    ----------
    head : HeadMesh.
    order : 1 (P1, as SimNIBS) or 2 (P2, 10-node tetrahedra).
    conductivities : optional {tag: S/m} overriding the SimNIBS defaults.
    tensors : optional anisotropic conductivity per tetrahedron, (M, 3, 3) S/m (symmetric
        positive definite); replaces the per-tag values. See ``head_models.io.load_tensors``.
    tol : relative residual at which CG stops.
    """
    method = "fem"

    def __init__(self, head, *, order: int = DEFAULT_ORDER, conductivities: Mapping[int, float] | None = None,
                 tensors=None, tol: float = DEFAULT_TOL):
        self.head, self.timings = head, {}
        self.conductivities = dict(conductivities or {})
        with timed(self.timings, "assembly"):
            self.space = FunctionSpace.on(head, order)
            self.sigma = (head.conductivity(self.conductivities) if tensors is None
                          else check_tensors(tensors, head.n_tets))
            matrix = assembly.stiffness(self.space, head.basis_gradients, head.volumes, self.sigma)
        with timed(self.timings, "preconditioner"):
            coarse = self.space.prolongation_from_p1() if order == 2 else None
            self.linear = GroundedAMGSolver(matrix, ground=0, tol=tol, coarse=coarse)
        self.samples = CENTROID.points if order == 1 else None   # see solver/recovery.py
        log.info("FEM P%d set up: %d tetrahedra, %d unknowns, %.2f s", order, head.n_tets,
                 self.space.n_dofs, sum(self.timings.values()))

    @property
    def order(self) -> int:
        return self.space.order

    def solve(self, coil, pose, *, didt=1e6, method: str = "auto", backend="auto",
              initial: np.ndarray | None = None) -> FieldResult:
        """FieldResult for ``coil`` at ``pose`` with current slope ``didt`` (A/s, or one per
        stimulator). ``method``/``backend`` choose how the primary field is evaluated;
        ``initial`` (n_dofs,) starts CG from a previous potential (warm start: 45 → 37 CG
        iterations for 2 mm steps, P2 on 49k tetrahedra)."""
        coil, pose, didt = placement_inputs(coil, pose, didt)
        timings = dict(self.timings)
        dadt, dadt_centroids = self._primary(coil, pose, didt, method, backend, timings)
        with timed(timings, "solve"):
            phi, info = self.linear.solve(self._load(dadt), x0=initial)
        return self._result(coil, pose, didt, phi, dadt, dadt_centroids, info, timings)

    def solve_batch(self, coils, poses, *, didt, method, backend, previous) -> list[FieldResult]:
        """FieldResults for paired ``coils`` and ``poses``, their potentials found together by
        block CG, started from the Galerkin projection onto the ``previous`` results'
        potentials (the best combination of them in the energy norm)."""
        timings = [dict(self.timings) for _ in poses]
        primaries = [self._primary(c, p, didt, method, backend, t) for c, p, t in zip(coils, poses, timings)]
        shared = {}
        with timed(shared, "solve"):
            rhs = np.column_stack([self._load(dadt) for dadt, _ in primaries])
            start = self.linear.projection(rhs, np.column_stack([r.unknowns for r in previous])) if previous else None
            phi, infos = self.linear.solve_block(rhs, x0=start)
        for t in timings:
            t["solve"] = shared["solve"] / len(poses)
        return [self._result(c, p, didt, phi[:, i], *primaries[i], infos[i], timings[i])
                for i, (c, p) in enumerate(zip(coils, poses))]

    def _primary(self, coil, pose, didt, method, backend, timings):
        """∂A/∂t (V/m) at the degrees of freedom (n_dofs, 3) and, for P2, at the centroids (M, 3)."""
        with timed(timings, "primary field"):
            # P2 reports E at centroids with the exact primary field there: interpolating ∂A/∂t
            # costs 0.18 % vs 0.14 % shell error on the 49k-tet sphere; for P1 it is immaterial
            exact_at = self.head.centroids if self.order == 2 else np.zeros((0, 3))
            both = coil.dadt(np.vstack([self.space.dof_points, exact_at]), pose, didt=didt, method=method,
                             backend=backend)
        checked_primary(both)
        return both[:self.space.n_dofs], both[self.space.n_dofs:]

    def _load(self, dadt):
        """Load vector (n_dofs,) of the primary field ∂A/∂t given at the degrees of freedom."""
        return assembly.load_vector(self.space, self.head.basis_gradients, self.head.volumes, self.sigma, dadt)

    def _result(self, coil, pose, didt, phi, dadt, dadt_centroids, info, timings) -> FieldResult:
        """FieldResult of the potential ``phi`` (n_dofs,) and primary field of one placement."""
        head, space = self.head, self.space
        with timed(timings, "E at centroids"):
            centroid = CENTROID.points[0]
            if self.order == 2:
                E = -assembly.gradient_at(space, head.basis_gradients, phi, centroid) - dadt_centroids
            else:
                E = assembly.field_at(space, head.basis_gradients, phi, dadt, centroid)
            checked_field(E)
        log.info("FEM solve: %d CG iterations, residual %.1e", info.iterations, info.residual)
        provenance = base_provenance(head, coil, self.conductivities)
        provenance["anisotropic"] = self.sigma.ndim == 3
        provenance["solver"] = {"method": "fem", "order": self.order, "n_dofs": space.n_dofs,
                                "tol": info.tol, "iterations": info.iterations, "residual": info.residual,
                                "preconditioner": ("pyamg smoothed aggregation, V-cycle" if self.order == 1 else
                                                   "two-level: Gauss-Seidel + SA AMG on the P1 subspace"),
                                "recovery": ("superconvergent patch recovery per tissue" if self.order == 1 else
                                             "per-tissue patch mean of the element gradients")}
        native = functools.partial(self._native, phi, dadt)
        return FieldResult(head=head, E=E, recover=functools.partial(self.recover, phi, dadt), native=native,
                           interpolation="native" if self.order == 2 else "recovered",
                           phi=phi[:head.n_nodes], dadt=dadt, unknowns=phi, sigma=self.sigma, pose=pose,
                           didt=tuple(float(v) for v in np.atleast_1d(didt)),
                           provenance=provenance, timings=timings)

    def _native(self, phi, dadt, points, element, bary):
        """The FEM field −∇φ − ∂A/∂t at ``points`` inside ``element`` with barycentrics ``bary``."""
        return assembly.field_at(self.space, self.head.basis_gradients, phi, dadt, bary, element)

    @functools.cached_property
    def recovery(self) -> PatchRecovery:
        """Patch-recovery weights for this mesh, built on first use."""
        head = self.head
        return PatchRecovery(head.nodes, head.tets, head.tags, head.volumes, self.samples)

    def recover(self, phi, dadt):
        """Recovered E per tissue at the corners (M, 4, 3): SPR of −∇φ, minus ∂A/∂t there."""
        space, grads = self.space, self.head.basis_gradients
        if self.order == 1:
            samples = -assembly.gradient_at(space, grads, phi, CENTROID.points[0])[:, None]
            corners = np.broadcast_to(samples, (len(samples), 4, 3))   # constant gradient
        else:
            samples = np.zeros((len(phi), 0, 3))
            corners = np.stack([-assembly.gradient_at(space, grads, phi, lam) for lam in np.eye(4)], axis=1)
        return self.recovery(samples, corners) - dadt[self.head.tets]
