"""FEMSolver: assemble and precondition once per head, then solve many coil placements."""
from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping

import numpy as np

from ...core.backend import get_backend
from ...core.errors import TmsFieldError
from ...core.progress import timed
from ...head_models.tissues import check_tensors
from ..base import FieldSolver, checked_field, checked_primary, placement_inputs, primary_argument
from ..options import FEMOptions
from ..results.error_estimate import fem_estimator
from ..results.field import FieldResult
from ..results.provenance import base_provenance
from . import assembly
from .elements import CENTROID
from .fields import FEMField
from .linear import GroundedAMGSolver, SolveInfo
from .space import FunctionSpace

log = logging.getLogger("tmsfield")


@dataclasses.dataclass(frozen=True)
class PrimaryField:
    """∂A/∂t (V/m) of one placement where the FEM uses it: at the DOF points ``dofs``
    (n_dofs, 3; the result's interpolant), at the element centroids ``centroids`` (M, 3; P2
    reports E there, else None) and at the load rule's points ``rule`` (M·Q, 3; with
    FEMOptions.primary_load "rule", else None). Fields of coils fired together add."""
    dofs: np.ndarray
    centroids: np.ndarray | None
    rule: np.ndarray | None

    def __add__(self, other: PrimaryField) -> PrimaryField:
        return PrimaryField(*(None if a is None else a + b for a, b in
                              ((self.dofs, other.dofs), (self.centroids, other.centroids), (self.rule, other.rule))))


class FEMSolver(FieldSolver):
    """Finite elements of order 1 or 2 for the TMS-induced field on one head.

    Parameters
    ----------
    head : HeadMesh.
    order : 1 (P1, as SimNIBS) or 2 (P2, 10-node tetrahedra).
    conductivities : optional {tag: S/m} overriding the SimNIBS defaults.
    tensors : optional anisotropic conductivity per tetrahedron, (M, 3, 3) S/m (symmetric
        positive definite); replaces the per-tag values. See ``head_models.io.load_tensors``.
    tol : relative residual at which CG stops.
    options : a :class:`~tmsfield.solver.options.FEMOptions` (defaults: P2, tol 1e-8); ``order``
        and ``tol`` given here override its values. Recorded in each result's provenance.
    backend : "auto" | "cpu" | "gpu" (or a Backend): where assembly, the CG solve and the
        field at the elements run (core/backend.py); the multigrid hierarchy is built on the
        CPU in every case. Results hold numpy arrays.
    """
    method = "fem"

    def __init__(self, head, *, order: int | None = None, conductivities: Mapping[int, float] | None = None,
                 tensors=None, tol: float | None = None, options: FEMOptions | None = None, backend="auto"):
        if options is not None and not isinstance(options, FEMOptions):
            raise TypeError(f"options must be a FEMOptions, got {type(options).__name__}")
        self.options = options = (options or FEMOptions()).replace(order=order, tol=tol)
        order, tol = options.order, options.tol
        self.head, self.timings = head, {}
        self.be = get_backend(backend)
        self.conductivities = dict(conductivities or {})
        with timed(self.timings, "assembly"):
            self.space = FunctionSpace.on(head, order)
            self.sigma = (head.conductivity(self.conductivities) if tensors is None
                          else check_tensors(tensors, head.n_tets))
            self.discretisation = assembly.Discretisation.on(self.space, head, self.sigma, self.be)
            matrix = assembly.stiffness(self.discretisation, ground=0)
        with timed(self.timings, "preconditioner"):
            coarse = self.space.prolongation_from_p1() if order == 2 else None
            self.linear = GroundedAMGSolver(matrix, ground=0, tol=tol, coarse=coarse, backend=self.be)
        log.info("FEM P%d set up on %s: %d tetrahedra, %d unknowns, %.2f s", order, self.be.name, head.n_tets,
                 self.space.n_dofs, sum(self.timings.values()))

    @property
    def order(self) -> int:
        return self.space.order

    @primary_argument
    def solve(self, coil, pose, *, didt=1e6, primary: str = "auto", backend=None,
              initial: np.ndarray | None = None) -> FieldResult:
        """FieldResult for ``coil`` at ``pose`` with current slope ``didt`` (A/s, or one per
        stimulator). ``primary`` ("auto" | "direct" | "fmm") and ``backend`` (default: the
        solver's) choose how the primary field is evaluated;
        ``initial`` (n_dofs,) starts CG from a previous potential (warm start: 45 → 37 CG
        iterations for 2 mm steps, P2 on 49k tetrahedra)."""
        coil, pose, didt = placement_inputs(coil, pose, didt)
        timings = dict(self.timings)
        field = self._primary(coil, pose, didt, primary, backend, timings)
        with timed(timings, "solve"):
            start = None if initial is None else self.be.asarray(initial)
            phi, info = self.linear.solve(self._load(field), x0=start)
        return self._result(coil, pose, didt, phi, field, info, timings)

    @primary_argument
    def solve_batch(self, coils, poses, *, didt, primary, backend, previous) -> list[FieldResult]:
        """FieldResults for paired ``coils`` and ``poses``, their potentials found together by
        block CG, started from the Galerkin projection onto the ``previous`` results'
        potentials (the best combination of them in the energy norm)."""
        timings = [dict(self.timings) for _ in poses]
        primaries = [self._primary(c, p, didt, primary, backend, t) for c, p, t in zip(coils, poses, timings)]
        shared = {}
        with timed(shared, "solve"):
            xp = self.be.xp
            rhs = xp.stack([self._load(field) for field in primaries], axis=1)
            start = (self.linear.projection(rhs, self.be.asarray(np.column_stack([r.unknowns for r in previous])))
                     if previous else None)
            phi, infos = self.linear.solve_block(rhs, x0=start)
        for t in timings:
            t["solve"] = shared["solve"] / len(poses)
        return [self._result(c, p, didt, phi[:, i], primaries[i], infos[i], timings[i])
                for i, (c, p) in enumerate(zip(coils, poses))]

    @primary_argument
    def solve_together(self, coils, poses, *, didt, primary: str = "auto", backend=None) -> FieldResult:
        """The field of several coils fired together (e.g. paired-coil protocols), each at its
        pose with its own dI/dt: ``coils``, ``poses`` and ``didt`` are sequences of equal length
        (each dI/dt in A/s, a number or one per stimulator of that coil). The FEM is linear in
        the primary field, so the summed ∂A/∂t is solved once. The result has no single coil or
        pose: its provenance lists them ("coils") and ``result.placements()`` reports each."""
        coils, poses, didt = list(coils), list(poses), list(didt)
        if not len(coils) == len(poses) == len(didt) or not coils:
            raise TmsFieldError(f"solve_together needs one pose and one dI/dt per coil, got {len(coils)} coil(s), "
                                f"{len(poses)} pose(s), {len(didt)} dI/dt value(s)")
        inputs = [placement_inputs(c, p, d) for c, p, d in zip(coils, poses, didt)]
        timings = dict(self.timings)
        field = functools.reduce(PrimaryField.__add__, [self._primary(c, p, d, primary, backend, timings)
                                                        for c, p, d in inputs])
        checked_primary(field.dofs)             # coils that cancel everywhere: no field to solve for
        with timed(timings, "solve"):
            phi, info = self.linear.solve(self._load(field))
        result = self._result(None, None, tuple(v for _, _, d in inputs for v in d), phi, field, info, timings)
        result.provenance["coil"] = " + ".join(c.name for c, _, _ in inputs)
        result.provenance["coils"] = [{"coil": c.name, "matsimnibs_mm": p.to_matsimnibs("mm").tolist(),
                                       "didt_A_per_s": list(d)} for c, p, d in inputs]
        return result

    def _primary(self, coil, pose, didt, primary, backend, timings) -> PrimaryField:
        """∂A/∂t (V/m) where this solver uses it (see PrimaryField)."""
        backend = self.be if backend is None else backend
        # P2 reports E at centroids with the exact primary field there: interpolating ∂A/∂t
        # costs 0.18 % vs 0.14 % shell error on the 49k-tet sphere; for P1 it is immaterial
        parts = {"dofs": self.space.dof_points, "centroids": self.head.centroids if self.order == 2 else None,
                 "rule": self._load_points if self.options.primary_load == "rule" else None}
        with timed(timings, "primary field"):
            used = {k: v for k, v in parts.items() if v is not None}
            values = coil.dadt(np.vstack(list(used.values())), pose, didt=didt, method=primary, backend=backend)
        checked_primary(values)
        ends = np.cumsum([len(v) for v in used.values()])
        split = dict(zip(used, np.split(values, ends[:-1])))
        return PrimaryField(split["dofs"], split.get("centroids"), split.get("rule"))

    @functools.cached_property
    def _load_points(self) -> np.ndarray:
        """The load rule's points in every element (M·Q, 3) m (FEMOptions.primary_load "rule")."""
        return assembly.load_points(self.discretisation, self.head.nodes[self.head.tets])

    # --- public surface for methods built on the assembled system (optimize/reciprocity) ---
    @property
    def n_dofs(self) -> int:
        """Number of unknowns (potential degrees of freedom)."""
        return self.space.n_dofs

    def solve_load(self, rhs, *, initial: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """Potential (n_dofs,) V, grounded at node 0, for the load vector ``rhs`` (n_dofs,) on the
        assembled, preconditioned system, and its CG convergence record; ``initial`` starts CG."""
        be = self.be
        phi, info = self.linear.solve(be.asarray(np.asarray(rhs, float)),
                                      x0=None if initial is None else be.asarray(initial))
        return be.to_numpy(phi), info

    def dipole_load(self, element: int, bary, moments) -> np.ndarray:
        """Load vectors (n_dofs, K) of K current dipoles ``moments`` (K, 3) A·m at one point,
        barycentric ``bary`` (4,) in ``element``: g_k = p·∇N_k(r0)."""
        return self.be.to_numpy(assembly.dipole_load(self.discretisation, element, bary, moments))

    def current_density(self, phi, bary, elements=None) -> np.ndarray:
        """Volume current density J = −σ∇φ (m, 3) A/m² of the potential ``phi`` (n_dofs,) at the
        barycentric point ``bary`` (4,) of ``elements`` (indices; None: all)."""
        idx = np.arange(self.head.n_tets) if elements is None else np.asarray(elements)
        be = self.be
        g = be.to_numpy(assembly.gradient_at(self.discretisation, be.asarray(np.asarray(phi, float)), bary, idx))
        sigma = self.sigma[idx]
        return -(sigma[:, None] * g if sigma.ndim == 1 else np.einsum("mij,mj->mi", sigma, g))

    def _load(self, field: PrimaryField):
        """Load vector (n_dofs,) on the backend of the primary field: integrated with ∂A/∂t at
        the load rule's points where ``field`` has them, else with its interpolant from the DOFs."""
        if field.rule is not None:
            return assembly.load_vector_at_rule(self.discretisation, self.be.asarray(field.rule))
        return assembly.load_vector(self.discretisation, self.be.asarray(field.dofs))

    def _result(self, coil, pose, didt, phi, field: PrimaryField, info, timings) -> FieldResult:
        """FieldResult of the potential ``phi`` (n_dofs,) on the backend and the primary field
        (numpy) of one placement."""
        head, space, be = self.head, self.space, self.be
        dadt = field.dofs
        with timed(timings, "E at centroids"):
            centroid = CENTROID.points[0]
            if self.order == 2:
                E = -be.to_numpy(assembly.gradient_at(self.discretisation, phi, centroid)) - field.centroids
            else:
                E = be.to_numpy(assembly.field_at(self.discretisation, phi, be.asarray(dadt), centroid))
            checked_field(E)
            phi = be.to_numpy(phi)
        log.info("FEM solve: %d CG iterations, residual %.1e", info.iterations, info.residual)
        provenance = base_provenance(head, coil, self.conductivities)
        provenance["anisotropic"] = self.sigma.ndim == 3
        provenance["solver"] = {"method": "fem", "order": self.order, "n_dofs": space.n_dofs,
                                "tol": info.tol, "iterations": info.iterations, "residual": info.residual,
                                "backend": be.name, "preconditioner": self.linear.preconditioner_name,
                                "recovery": ("superconvergent patch recovery per tissue" if self.order == 1 else
                                             "per-tissue patch mean of the element gradients"),
                                "options": self.options.as_dict()}
        return FieldResult(head=head, E=E, recover=functools.partial(self.fields.recover, phi, dadt),
                           native=functools.partial(self.fields.native, phi, dadt),
                           interpolation="native" if self.order == 2 else "recovered",
                           phi=phi[:head.n_nodes], dadt=dadt, unknowns=phi, sigma=self.sigma, pose=pose, coil=coil,
                           didt=tuple(float(v) for v in np.atleast_1d(didt)),
                           provenance=provenance, timings=timings, estimator=fem_estimator(self.order))

    @functools.cached_property
    def fields(self) -> FEMField:
        """The field of a potential anywhere (native and recovered), shared with loaded results."""
        return FEMField(self.head, self.order, self.space, backend=self.be)
