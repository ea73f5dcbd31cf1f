"""BEMSolver: charge-based boundary elements (Makarov et al., BEM-FMM) for the induced field.

Unknowns are piecewise-constant charge densities ρ on the interface facets (in V/m, charge
per area over ε0), collocated at the centroids:

    ρ_i − 2κ_i n_i·E_c[ρ](c_i) = 2κ_i n_i·E_p(c_i),   κ = (σin − σout)/(σin + σout),

with E_p = −∂A/∂t and E_c[ρ] the charges' field (principal value on the facets). With air
outside (κ = 1) the operator has the equilibrium charge of the outer surface as its null
vector; the constraint Σ A_i ρ_i = 0 (the head holds no net charge) is added as a rank-one
term, which removes the null vector and leaves consistent solutions unchanged. GMRES solves
the system, preconditioned by an incomplete LU of its near-field part; the total field
anywhere is E = E_p + E_c[ρ].
"""
from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...core.backend import get_backend
from ...core.errors import PlacementError, TmsFieldError
from ...core.progress import timed
from ...head_models.mesh import HeadMesh
from ...head_models.surface_checks import segments_crossing
from ...head_models.surfaces import inside_surface
from ..base import FieldSolver, checked_field, checked_primary, placement_inputs, primary_argument
from ..options import BEMOptions
from ..results.field import FieldResult
from ..results.provenance import base_provenance
from ..results.surface import SurfaceFieldResult
from .charge_field import ChargeField
from .fields import BEMField
from .interfaces import Interfaces

log = logging.getLogger("tmsfield")


class BEMSolver(FieldSolver):
    """Charge-based BEM on the interfaces of ``head``: a HeadMesh (tissue-tagged tetrahedra;
    results are FieldResults on its elements) or an :class:`Interfaces` (surfaces only;
    results are SurfaceFieldResults, sampled at any point).

    conductivities : optional {tag: S/m} overriding the SimNIBS defaults (HeadMesh only).
    options : a :class:`~tmsfield.solver.options.BEMOptions` (GMRES tolerance, restart and
        iteration limit, ILU, far-field summation, near-field factor and rule, FMM precision;
        its fields document the measured defaults). Recorded in each result's provenance.
    tol : GMRES relative residual.   far_field : "auto" | "dense" | "fmm" (see ChargeField).
    near_rule : observation points per facet (1, 3 or 6) over which the near-field rows are
        averaged (see ChargeField). These three, when given, override ``options``.
    backend : "auto" | "cpu" | "gpu": where the collocation product runs when the far field is
        "direct" (``far_field="auto"`` picks it on a GPU), and the primary field's direct sums.
        The near field, its ILU and GMRES run on the CPU.
    interfaces : with a HeadMesh, the Interfaces to solve on instead of the head's own (its
        refinement, ``Interfaces.refined``: solver/adaptive.py); results stay on the head's elements.
    """
    method = "bem"

    def __init__(self, head, *, conductivities: Mapping[int, float] | None = None, tol: float | None = None,
                 far_field: str | None = None, near_rule: int | None = None, options: BEMOptions | None = None,
                 backend="auto", interfaces: Interfaces | None = None):
        if options is not None and not isinstance(options, BEMOptions):
            raise TypeError(f"options must be a BEMOptions, got {type(options).__name__}")
        self.options = options = (options or BEMOptions()).replace(tol=tol, far_field=far_field, near_rule=near_rule)
        self.timings = {}
        self.conductivities = dict(conductivities or {})
        self.head = head if isinstance(head, HeadMesh) else None
        with timed(self.timings, "interfaces"):
            if isinstance(head, Interfaces):
                if conductivities:
                    raise TmsFieldError("conductivities are fixed when the Interfaces are built; "
                                        "pass them to Interfaces.from_surfaces")
                self.interfaces = head
            elif self.head is not None and interfaces is not None:
                self.interfaces = interfaces
            elif self.head is not None:
                self.interfaces = Interfaces.from_head(head, conductivities)
            else:
                raise TmsFieldError(f"BEMSolver needs a HeadMesh or Interfaces, got {type(head).__name__}")
        self.be = get_backend(backend)
        self.charges = ChargeField(self.interfaces, options=options, backend=self.be)
        surf = self.interfaces
        with timed(self.timings, "near field"):
            near = self.charges.near_matrix
        with timed(self.timings, "far field"):
            self.charges.prepare()
        with timed(self.timings, "preconditioner"):
            local = sp.identity(surf.n_facets, format="csc") - 2 * sp.diags(surf.kappa) @ self.charges.near_inner
            self._ilu = spla.spilu(local.tocsc(), drop_tol=options.ilu_drop_tol, fill_factor=options.ilu_fill)
        self._weights = surf.areas / surf.areas.sum()
        log.info("BEM set up: %d facets, %d near-field pairs, %.2f s", surf.n_facets, near.nnz,
                 sum(self.timings.values()))

    @property
    def tol(self) -> float:
        """GMRES relative residual (``options.tol``)."""
        return self.options.tol

    #: the settings read only when solving (GMRES); the others shape the prepared operator
    SOLVE_OPTIONS = ("tol", "restart", "max_iterations")

    def with_solve_options(self, **changes) -> BEMSolver:
        """A solver sharing this one's prepared operator and preconditioner, with other GMRES
        settings (``tol``, ``restart``, ``max_iterations``; see :class:`BEMOptions`). The
        set-up settings (far field, near field, ILU) need a new ``BEMSolver(head, options=...)``."""
        fixed = sorted(set(changes) - set(self.SOLVE_OPTIONS))
        if fixed:
            raise TypeError(f"with_solve_options changes only {self.SOLVE_OPTIONS}, not {fixed}: build a new "
                            "BEMSolver(head, options=BEMOptions(...)) for those")
        other = copy.copy(self)
        other.options = self.options.replace(**changes)
        return other

    # --- the linear system -------------------------------------------------------------
    def _operator(self) -> spla.LinearOperator:
        kappa, weights = self.interfaces.kappa, self._weights

        def matvec(rho):
            rho = np.ravel(rho)
            return rho - 2 * kappa * self.charges.normal_field(rho) + weights @ rho
        n = self.interfaces.n_facets
        return spla.LinearOperator((n, n), matvec=matvec, dtype=float)

    def solve_charges(self, primary_field: np.ndarray, initial: np.ndarray | None = None):
        """Facet charge densities (K,) V/m for the primary field E_p (K, 3) V/m at the centroids;
        returns (density, iterations, relative residual)."""
        surf = self.interfaces
        rhs = 2 * surf.kappa * np.einsum("ki,ki->k", primary_field, surf.normals)
        iterations = []
        restart = min(self.options.restart, self.options.max_iterations)
        precondition = spla.LinearOperator(self._ilu.shape, matvec=self._ilu.solve, dtype=float)
        density, info = spla.gmres(self._operator(), rhs, x0=initial, M=precondition, rtol=self.tol, atol=0.0,
                                   restart=restart, maxiter=max(1, self.options.max_iterations // restart),
                                   callback=iterations.append, callback_type="pr_norm")
        residual = float(iterations[-1]) if iterations else 0.0
        if info != 0 or not np.isfinite(density).all() or not residual <= 10 * self.tol:   # NaN fails too
            raise TmsFieldError(f"GMRES did not reach tolerance {self.tol} in {len(iterations)} iterations "
                                f"(residual {residual:.2e}); check the surfaces (repair, nesting) and conductivities")
        return density, len(iterations), residual

    # --- placements ---------------------------------------------------------------------
    def check_placement(self, coil, pose) -> None:
        """Raise PlacementError if coil elements lie inside the head or windings cut a surface."""
        placed = coil.transformed(pose.matrix)
        surf = self.interfaces
        outer = surf.outer_triangles()
        points = placed.source_points()
        inside = inside_surface(points, surf.vertices, outer)
        if inside.any():
            raise PlacementError(f"coil {coil.name!r} is inside the head: {inside.sum()} of {len(points)} coil "
                                 f"elements lie within the outer surface (e.g. at "
                                 f"{np.round(1e3 * points[inside][0], 2).tolist()} mm)")
        cut = segments_crossing(placed.segment_starts, placed.segment_ends, surf.vertices, surf.triangles)
        if len(cut):
            raise PlacementError(f"coil {coil.name!r}: {len(cut)} winding segment(s) cut a head surface (e.g. "
                                 f"segment {cut[0]} from "
                                 f"{np.round(1e3 * placed.segment_starts[cut[0]], 2).tolist()} mm)")

    @primary_argument
    def solve(self, coil, pose, *, didt=1e6, primary: str = "auto", backend=None,
              initial: np.ndarray | None = None, check_placement: bool = True):
        """Field of ``coil`` at ``pose`` with current slope ``didt`` (A/s, or one per
        stimulator). ``primary`` ("auto" | "direct" | "fmm") and ``backend`` choose how the
        primary field is evaluated;
        ``initial`` (K,) starts GMRES from previous charges. Returns a FieldResult on the
        head's tetrahedra, or a SurfaceFieldResult when the solver has only surfaces."""
        coil, pose, didt = placement_inputs(coil, pose, didt)
        surf, timings = self.interfaces, dict(self.timings)
        if check_placement:
            with timed(timings, "placement check"):
                self.check_placement(coil, pose)
        dadt = functools.partial(coil.dadt, pose=pose, didt=didt, method=primary,
                                 backend=self.be if backend is None else backend)
        with timed(timings, "primary field"):
            primary = -checked_primary(dadt(surf.centroids))
        with timed(timings, "solve"):
            density, iterations, residual = self.solve_charges(primary, initial)
        log.info("BEM solve: %d GMRES iterations, residual %.1e", iterations, residual)
        provenance = base_provenance(self.head if self.head is not None else surf, coil, self.conductivities)
        provenance["solver"] = {"method": "bem", "n_facets": surf.n_facets, "tol": self.tol,
                                "iterations": iterations, "residual": residual,
                                "formulation": "charge-based, collocation at centroids, GMRES",
                                "far_field": self.charges.far_field, "near_factor": self.charges.near_factor,
                                "backend": self.be.name,
                                "options": self.options.as_dict()}
        didt_tuple = tuple(float(v) for v in np.atleast_1d(didt))
        if self.head is None:
            return SurfaceFieldResult(surf, density, self.charges, dadt, pose=pose, coil=coil, didt=didt_tuple,
                                      provenance=provenance, timings=timings)
        return self._on_head(density, dadt, coil, pose, didt_tuple, provenance, timings)

    def _on_head(self, density, dadt, coil, pose, didt, provenance, timings) -> FieldResult:
        head = self.head
        with timed(timings, "E at centroids"):
            dadt_centroids = dadt(head.centroids)
            E = checked_field(self.charges.field(head.centroids, density) - dadt_centroids)
        with timed(timings, "potential at nodes"):
            phi = self.charges.potential(head.nodes, density)
        return FieldResult(head=head, E=E, recover=functools.partial(self.fields.recover, E),
                           native=functools.partial(self.fields.native, density, dadt), interpolation="native",
                           phi=phi, dadt=dadt_centroids, unknowns=density, sigma=head.conductivity(self.conductivities),
                           pose=pose, coil=coil, didt=didt, provenance=provenance, timings=timings,
                           interfaces=self.interfaces, estimator=functools.partial(self.fields.estimate, density))

    @functools.cached_property
    def fields(self) -> BEMField:
        """The field of facet charges on the head (native and recovered), shared with loaded results."""
        return BEMField(self.head, self.charges)
