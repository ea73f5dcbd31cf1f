"""Solver settings as frozen dataclasses: passed to a solver when it is built
(``BEMSolver(head, options=BEMOptions(max_iterations=500))``), recorded in every result's
provenance (``result.provenance["solver"]["options"]``). Nothing in the package changes them
at run time: a study varies a setting by building solvers with other options."""
from __future__ import annotations

import dataclasses

from ..core.checks import check_choice
from ..core.errors import TmsFieldError

#: the BEM's far-field summation at the collocation points (see :class:`BEMOptions`)
FAR_FIELDS = ("auto", "dense", "fmm", "direct")
#: observation points per facet available for the BEM's near-field rows (solver/bem/quadrature.py)
NEAR_RULES = (1, 3, 6)
#: point charges per facet in the BEM far field (solver/bem/quadrature.TRIANGLE_RULES)
FAR_CHARGES = (1, 3)


class _Options:
    """Shared helpers of the options dataclasses."""

    def as_dict(self) -> dict:
        """The settings as a plain dict (for provenance and JSON)."""
        return dataclasses.asdict(self)

    def replace(self, **changes):
        """A copy with ``changes``; None values keep the current setting."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting(s) {unknown}; "
                            f"available: {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclasses.dataclass(frozen=True)
class FEMOptions(_Options):
    """Settings of the finite-element solver."""

    #: element order: 1 (P1, as SimNIBS) or 2 (P2, 10-node tetrahedra). P2 is the default: the
    #: study (validation/results/fem_sphere.md) shows it reaching any error below P1's reach,
    #: and P1's errors, in less time
    order: int = 2
    #: relative residual ‖b − Kx‖/‖b‖ at which CG stops. The validation study (fem_sphere.md)
    #: finds P1 and P2 errors unchanged in their 4th digit for tolerances from 1e-4 to 1e-10;
    #: 1e-8 keeps four orders of margin and saves ~20 % of the iterations of 1e-10
    tol: float = 1e-8
    #: where the load vector −∫σ∇N·∂A/∂t takes the primary field: "dofs" (its interpolant in the
    #: element space from the DOF points) or "rule" (the coil's field at the load rule's points,
    #: 5 per P2 element). P2 on the 3-layer sphere (validation/results/fem_primary_load.md): "rule"
    #: lowers the shell error by 0-7 % of itself (SimNIBS sphere3.msh, tilted dipole 10 mm above
    #: the scalp: 0.609 -> 0.565 %; 25 mm above: 0.387 -> 0.371 %; figure-8: 0.308 -> 0.301 %; gmsh
    #: 6 mm: 0.081 % either way) and takes ~3x the primary-field time (figure-8 on 98k tets:
    #: 2.2 -> 6.1 s); not worth it by default
    primary_load: str = "dofs"

    def __post_init__(self):
        check_choice(self.order, (1, 2), "order")
        check_choice(self.primary_load, ("dofs", "rule"), "primary_load")
        if not 0 < self.tol < 1:
            raise TmsFieldError(f"solver tolerance must be in (0, 1), got {self.tol}")


@dataclasses.dataclass(frozen=True)
class BEMOptions(_Options):
    """Settings of the charge-based boundary-element solver."""

    #: GMRES relative residual: at 1e-6 the charges differ by 7e-6 and E on the 70 mm sphere by
    #: 3e-7 from a float64 1e-10 solve (validation/results/bem_parameters.md (c)); the float32
    #: dense far field cannot reach 1e-8
    tol: float = 1e-6
    #: GMRES restart length (iterations per cycle)
    restart: int = 100
    #: total GMRES iterations before giving up (scipy counts restart cycles: maxiter =
    #: max_iterations / restart, at least one cycle)
    max_iterations: int = 1000
    #: incomplete LU of the near-field part of the operator as GMRES preconditioner: on the 6 mm
    #: sphere (21k facets) it cuts GMRES iterations from 34 to 20 (8.9 s instead of 14.8 s per
    #: solve) for 5.4 s of setup; drop 1e-3 / fill 1–2 cost more and gained less (30 / 24)
    ilu_drop_tol: float = 1e-2
    ilu_fill: float = 1.0
    #: how the collocation operator sums the far field: "dense" (precomputed matrix), "fmm"
    #: (fmm3dpy), "direct" (tiled O(N²) sums on the solver's backend: what a GPU does), or "auto"
    #: (on a GPU direct; else dense up to ``dense_max_facets`` facets, then fmm)
    far_field: str = "auto"
    #: pairs closer than this many facet sizes (longest edge) are integrated exactly. The
    #: point-charge remainder is an operator error (on the solved charges) of 7.7e-3 at 2 sizes,
    #: 3.1e-3 at 3 and 7.5e-4 at 5 (8 mm sphere vs all-exact integrals), which moved the 70 mm
    #: sphere error by < 0.1 % of the field while a factor 3 costs 2.2x the near field and ~10x
    #: the ILU (validation/results/bem_parameters.md (a), (d))
    near_factor: float = 2.0
    #: pairs from near_factor to this many facet sizes sum the source facet by its 6-point rule
    #: instead of the far field's point charges (solver/bem/charge_field.py; at or below
    #: near_factor: none, the default). It mattered with one point charge per facet (3-layer
    #: sphere, figure-8, 70 mm, 5.8 / 3.8 / 2.9 mm facets: 0.29 / 0.88 / 0.62 % without, 0.22 /
    #: 0.11 / 0.08 % with a factor 4); with ``far_charges`` 3 it changes the error by less than
    #: ±0.015 percentage points on five sphere sets at 5.8-2.9 mm (smaller at 3.8 and 2.9 mm
    #: without it) for 2-3.5x the set-up and 5-7x the near-field memory
    #: (validation/results/bem_intermediate.md, session 9)
    intermediate_factor: float = 2.0
    #: observation points per facet over which each row of the collocation operator is averaged,
    #: near field (closed forms) and far field (point charges) alike (1 = the centroid: plain
    #: collocation). On the 3-layer sphere (figure-8, 70 mm sphere) 3 points, near field only,
    #: cut the error from 6.87 / 3.91 / 2.22 % to 0.50 / 0.40 / 0.29 % at 10 / 8 / 6 mm facets
    #: for 1.6-1.9x the near-field set-up (validation/results/bem_sphere.md); averaging the far
    #: field too: 0.26 / 0.35 / 0.18 -> 0.21 / 0.22 / 0.11 % at 5.8 / 3.8 / 2.9 mm for 2x the
    #: FMM's time per product (validation/results/bem_intermediate.md, session 8)
    near_rule: int = 3
    #: facets sharing a vertex or an edge (near_rule 3 or 6): their near-field entry is the flux
    #: of the source facet's field through the observation facet, integrated as the observation
    #: facet's solid angle (a bounded integrand) by the 6-point rule on the source facet graded
    #: this many times towards the shared corners (solver/bem/charge_field.py). Entry error
    #: against a converged rule, max / median over a sphere's adjacent pairs: 11 / 0.54 % at 0,
    #: 2.7 / 0.14 % at 1, 0.68 / 0.035 % at 2, 0.17 / 0.009 % at 3 (tests/test_bem.py). Four
    #: spheres 78/79.5/86/92 mm (1.5 mm CSF), E at 60 mm, 5.8 / 2.9 mm facets: 2.16 / 1.40 % with
    #: the near rule's 3-point average for these pairs, 0.13 / 0.23 % with the flux and the far
    #: field averaged as ``near_rule`` says (validation/results/bem_intermediate.md)
    adjacent_level: int = 2
    #: point charges per facet in the far field (beyond ``intermediate_factor`` sizes): 1 at the
    #: centroid, or 3 at the 3-point rule's points (they match the facet's second moments: the
    #: error falls from (size/distance)² to (size/distance)³; operator error at 2 sizes 49-58x
    #: smaller, tests/test_bem.py). Nested spheres, E at 60 mm against the analytic field, 5.8 /
    #: 3.8 / 2.9 mm facets: 5-6 mm layers 0.271 / 0.653 / 0.172 % with 1 charge, 0.087 / 0.034 /
    #: 0.024 % with 3; 1 mm CSF 0.116 / – / 0.245 % -> 0.119 / 0.041 / 0.030 %: convergence
    #: monotone on all five sets (validation/results/bem_intermediate.md, session 9). The FMM
    #: and direct sums take ~1.5-2x longer per product, the dense matrix 2x longer to fill
    #: (15k-facet head: 7.1 -> 14.2 s, benchmarks/results/bem.md)
    far_charges: int = 3
    #: fmm3dpy precision: the solution moves by 7e-5 relative against the dense far field at eps
    #: 1e-3 (8 mm sphere), far below the discretisation error, and one product is 4x faster than
    #: at 1e-6 (0.13 s vs 0.49 s; validation/results/bem_parameters.md (b))
    fmm_eps: float = 1e-3
    #: point×facet pairs above which the far field at evaluation points uses the FMM
    fmm_min_pairs: int = 5_000_000
    #: up to this many facets the collocation far field is a dense float32 matrix (1.6 GB at the
    #: limit; float32 rounding, ~1e-7 relative, is below the GMRES tolerance): at 12k facets one
    #: dense product takes 0.03 s against 0.13 s for the single-threaded fmm3dpy 2.1.0 wheel
    #: at eps 1e-3 (validation/results/bem_parameters.md (b), benchmarks/results/bem.md)
    dense_max_facets: int = 20_000

    def __post_init__(self):
        check_choice(self.far_field, FAR_FIELDS, "far_field")
        check_choice(self.near_rule, NEAR_RULES, "near_rule")
        check_choice(self.far_charges, FAR_CHARGES, "far_charges")
        if not (isinstance(self.adjacent_level, int) and 0 <= self.adjacent_level <= 6):
            raise TmsFieldError(f"adjacent_level must be an integer from 0 to 6, got {self.adjacent_level!r}")
        if not 0 < self.tol < 1:
            raise TmsFieldError(f"GMRES tolerance must be in (0, 1), got {self.tol}")
        if not (self.restart >= 1 and self.max_iterations >= 1):
            raise TmsFieldError(f"restart and max_iterations must be >= 1, got {self.restart}, {self.max_iterations}")
        if not (self.near_factor > 0 and self.fmm_eps > 0):
            raise TmsFieldError(f"near_factor and fmm_eps must be > 0, got {self.near_factor}, {self.fmm_eps}")


@dataclasses.dataclass(frozen=True)
class AdaptiveOptions(_Options):
    """Settings of adaptive refinement (solver/adaptive.py)."""

    #: the relative L2 error estimate over the region at which refinement stops (0.01: 1 %)
    tolerance: float = 0.01
    #: refinements at most (the last result is returned when the tolerance is not reached)
    max_steps: int = 4
    #: Dörfler marking: refine the fewest facets/elements carrying this share of the squared
    #: indicators
    bulk: float = 0.5
    #: FEM: elements up to this far (m) outside the region may be refined (the field in the
    #: region depends on the mesh around it)
    zone: float = 0.01
    #: refinement stops before a model would exceed this many facets (BEM) or elements (FEM)
    max_size: int = 2_000_000

    def __post_init__(self):
        if not 0 < self.tolerance < 1:
            raise TmsFieldError(f"tolerance is a relative error in (0, 1) (0.01 = 1 %), got {self.tolerance}")
        if not 0 < self.bulk <= 1:
            raise TmsFieldError(f"bulk must be in (0, 1], got {self.bulk}")
        if not (int(self.max_steps) == self.max_steps >= 0 and self.max_size > 0 and self.zone >= 0):
            raise TmsFieldError(f"max_steps must be an integer >= 0, max_size > 0 and zone >= 0 m, got "
                                f"{self.max_steps}, {self.max_size}, {self.zone}")
