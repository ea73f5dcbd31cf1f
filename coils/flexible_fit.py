"""Fitting a flexible coil to the scalp: its deformation parameters (and, within set ranges, a
rigid shift and tilt) chosen so that the housing lies on the head and nothing enters it.

What is minimised, in mm (our formulation; the aim follows SimNIBS' flexible-coil placement,
``optimize_distance`` in simnibs/optimization/tms_flex_optimization.py):

    cost = mean |d(contact points) − gap|  +  W Σ max(0, gap + margin − d(clearance points))

``d`` is the signed distance to the scalp (negative inside), ``gap`` the wanted casing–scalp
distance, the contact points the casing's bottom (``minDistancePoints``) and the clearance
points its whole surface and every coil element; W = :data:`CLEARANCE_WEIGHT` makes any
intrusion cost more than the whole fit term gains; ``margin`` (0.5 mm) absorbs the error of the
distance grid the search reads (a trilinear grid of the exact signed distance, spacing 2 mm,
over the region the coil can reach). A bounded local search (Powell) starts from the pose as
given; a global search (``scipy.optimize.direct`` over the parameter box, then the local search
from its optimum) follows when that leaves the coil intruding, or always with
``global_search=True``; the better end wins. The result is then checked with
exact distances: a coil element inside the head, or housing more than ``margin`` inside the
gap, is a :class:`~tmsfield.core.errors.PlacementError` naming how deep and where.

Parameters are the coil's deformation values (degrees or mm, in their .tcd ranges) followed by
the rigid adjustments that are allowed: rotations about the coil's own x', y', z' axes through
its centre (degrees) and shifts along them (mm), applied after the deformations, as SimNIBS'
global deformations are.
"""
from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from ..core.errors import PlacementError, TmsFieldError
from ..core.progress import progress, scoped_verbose, stages_shown
from .deformation import _rotation, move_parts
from .pose import CoilPose

log = logging.getLogger("tmsfield")

#: the search keeps the casing this far (m) beyond the wanted gap, for the distance grid's error
SAFETY_MARGIN = 0.0005
#: weight of each clearance point's intrusion (per mm) against the mean contact distance (mm)
CLEARANCE_WEIGHT = 100.0
#: spacing (m) of the signed-distance grid the search reads
GRID_SPACING = 0.002
#: the distance grid reaches this far (m) beyond the coil's and the head's bounding boxes
GRID_MARGIN = 0.04


@dataclasses.dataclass(frozen=True)
class FitOptions:
    """How a flexible coil is fitted (coils/flexible_fit.py).

    gap : wanted distance (m) between the casing's bottom and the scalp (hair, cap); 4 mm as in
        SimNIBS.
    rotation_deg : allowed rigid tilts about the coil's x', y', z' axes, three (min, max) pairs in
        degrees, or None to keep the pose's orientation.
    translation_mm : allowed rigid shifts along x', y', z', three (min, max) pairs in mm, or None.
        The default ranges are those of SimNIBS' distance optimisation (TmsFlexOptimization,
        method "distance"): tilts ±20°, ±20°, ±5°, shifts ±5, ±5, ±30 mm.
    global_search : also run the global DIRECT search and a local search from its optimum:
        True, False, or "auto" (only when the local search from the given pose leaves the casing
        inside the gap or an element in the head; on the H1 over four demo-head positions the
        global start never did better,
        validation/results/flexible_coils.md).
    max_evaluations : cost evaluations allowed to the global search (0: 400 per parameter).
    """
    gap: float = 0.004
    rotation_deg: tuple | None = ((-20.0, 20.0), (-20.0, 20.0), (-5.0, 5.0))
    translation_mm: tuple | None = ((-5.0, 5.0), (-5.0, 5.0), (-30.0, 30.0))
    global_search: bool | str = "auto"
    max_evaluations: int = 0

    def __post_init__(self):
        if self.global_search not in (True, False, "auto"):
            raise TmsFieldError(f"global_search must be True, False or 'auto', got {self.global_search!r}")
        if not (np.isfinite(self.gap) and 0 <= self.gap <= 0.03):
            raise TmsFieldError(f"fit gap (casing-scalp distance) must be 0-30 mm, given in m, got {self.gap!r}")
        for name in ("rotation_deg", "translation_mm"):
            value = getattr(self, name)
            if value is None:
                continue
            a = np.asarray(value, dtype=float)
            if a.shape != (3, 2) or not np.isfinite(a).all() or np.any(a[:, 0] > a[:, 1]):
                raise TmsFieldError(f"{name} must be three (min, max) pairs, for the coil's x', y', z' axes, "
                                    f"with min <= max, got {value!r}")
            object.__setattr__(self, name, tuple(map(tuple, a.tolist())))


@dataclasses.dataclass(frozen=True)
class FlexibleFit:
    """A fitted flexible coil: ``coil`` (in its own frame, at the fitted deformation), ``pose``
    (the pose after the rigid adjustment), the fitted ``deformation`` values with their
    ``names`` and ``units``, the rigid ``adjustment`` (rotation degrees, shift mm about/along
    x', y', z'), distances in mm: ``min_element_distance_mm`` (closest coil element to the scalp),
    ``min_casing_distance_mm`` (closest housing point), ``mean_contact_distance_mm`` (the casing's
    bottom), and the search's ``cost_before``/``cost_after``, ``evaluations`` and ``seconds``."""
    coil: object
    pose: CoilPose
    deformation: tuple
    names: tuple
    units: tuple
    adjustment: dict
    min_element_distance_mm: float
    min_casing_distance_mm: float
    mean_contact_distance_mm: float
    cost_before: float
    cost_after: float
    evaluations: int
    seconds: float

    def record(self) -> dict:
        """JSON-ready summary of the fit."""
        return {"deformation": {n: round(float(v), 4) for n, v in zip(self.names, self.deformation)},
                "units": list(self.units), "adjustment": self.adjustment,
                "min_element_distance_mm": round(self.min_element_distance_mm, 3),
                "min_casing_distance_mm": round(self.min_casing_distance_mm, 3),
                "mean_contact_distance_mm": round(self.mean_contact_distance_mm, 3),
                "cost_before": round(self.cost_before, 4), "cost_after": round(self.cost_after, 4),
                "evaluations": self.evaluations, "seconds": round(self.seconds, 2)}


class _DistanceGrid:
    """Signed distance to the scalp (m, negative inside) sampled on a regular grid and read by
    trilinear interpolation; beyond the grid, the boundary value plus the distance to the box."""

    def __init__(self, scalp, low: np.ndarray, high: np.ndarray, spacing: float = GRID_SPACING):
        self.low, self.spacing = low, spacing
        shape = np.ceil((high - low) / spacing).astype(int) + 1
        axes = [low[i] + spacing * np.arange(shape[i]) for i in range(3)]
        nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        self.values = scalp.signed_distance(nodes).reshape(shape)
        self.high = low + spacing * (shape - 1)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        from scipy.ndimage import map_coordinates
        inside = np.clip(points, self.low, self.high)
        value = map_coordinates(self.values, ((inside - self.low) / self.spacing).T, order=1, mode="nearest")
        return value + np.linalg.norm(points - inside, axis=1)


def _rigid(angles_deg, shift_mm) -> np.ndarray:
    """4×4: rotations about x, y, z (in that order) then the shift, in the coil frame."""
    m = np.eye(4)
    for axis, angle in zip(np.eye(3), angles_deg):
        r = np.eye(4)
        r[:3, :3] = _rotation(axis, angle)
        m = r @ m
    m[:3, 3] = 1e-3 * np.asarray(shift_mm, float)
    return m


class _Problem:
    """The fit's parameter vector ↔ placed point sets, and its cost."""

    def __init__(self, coil, pose: CoilPose, options: FitOptions):
        self.coil, self.pose, self.options = coil, pose, options
        model = coil.deformations
        self.n_deform = model.n_parameters
        free = lambda ranges: [] if ranges is None else [i for i in range(3) if ranges[i][0] < ranges[i][1]]
        self.rotations, self.shifts = free(options.rotation_deg), free(options.translation_mm)
        bounds = [tuple(b) for b in model.bounds]
        bounds += [options.rotation_deg[i] for i in self.rotations] + [options.translation_mm[i] for i in self.shifts]
        self.bounds = np.array(bounds, dtype=float)
        self.x0 = np.concatenate([model.values, np.zeros(len(self.rotations) + len(self.shifts))])
        self.x0 = np.clip(self.x0, self.bounds[:, 0], self.bounds[:, 1])
        elements = coil.source_points()
        element_part = np.concatenate([coil.dipole_part, coil.segment_part, coil.segment_part])
        if coil.casing is not None:
            contact, contact_part = coil.casing.contact_points()
            clear, clear_part = coil.casing.clearance_points()
        else:                       # no housing: the windings themselves keep the gap
            contact, contact_part = clear, clear_part = elements, element_part
        self.sets = {"contact": (contact, contact_part), "casing": (clear, clear_part),
                     "elements": (elements, element_part)}
        self.evaluations = 0

    def split(self, x):
        d = x[:self.n_deform]
        angles, shifts = np.zeros(3), np.zeros(3)
        angles[self.rotations] = x[self.n_deform:self.n_deform + len(self.rotations)]
        shifts[self.shifts] = x[self.n_deform + len(self.rotations):]
        return d, angles, shifts

    def placement(self, x) -> np.ndarray:
        """4×4 coil frame → head after the rigid adjustment of ``x``."""
        _, angles, shifts = self.split(x)
        return self.pose.matrix @ _rigid(angles, shifts)

    def points(self, x) -> dict[str, np.ndarray]:
        """Each point set of the coil at parameters ``x``, in head coordinates (m)."""
        d, _, _ = self.split(x)
        moves = self.placement(x)[None] @ self.coil.deformations.moves_to(d)
        return {k: move_parts(moves, p, part) for k, (p, part) in self.sets.items()}

    def terms(self, x, distance) -> tuple[float, np.ndarray]:
        """(mean |contact distance − gap|, clearances): the casing's distance beyond the gap and
        the elements' distance to the scalp, all in m (negative: intruding)."""
        pts = self.points(np.clip(x, self.bounds[:, 0], self.bounds[:, 1]))
        fit = np.mean(np.abs(distance(pts["contact"]) - self.options.gap))
        return float(fit), np.concatenate([distance(pts["casing"]) - self.options.gap, distance(pts["elements"])])

    def cost(self, x, distance) -> float:
        """The fit's cost (mm-scaled) at parameters ``x``."""
        self.evaluations += 1
        fit, clear = self.terms(x, distance)
        return 1e3 * fit + CLEARANCE_WEIGHT * 1e3 * np.maximum(0.0, SAFETY_MARGIN - clear).sum()


@scoped_verbose
def fit_to_scalp(head, coil, pose, options: FitOptions | None = None, *, verbose=None) -> FlexibleFit:
    """Fit the flexible ``coil`` placed at ``pose`` to the scalp of ``head``.

    ``coil`` is in its own frame (as loaded); ``pose`` a CoilPose (its centre at the wanted
    position, z' into the head). Returns a :class:`FlexibleFit`; raises PlacementError when no
    setting in the ranges keeps the coil out of the head, CoilError for a rigid coil.
    A progress bar counts the cost evaluations against the search's budget (with its ETA);
    ``verbose`` sets the log level for this call only. Usage:
    ``fit = fit_to_scalp(head, tf.coils.load("Brainsway_H1.tcd"), pose); fit.coil, fit.pose``.
    """
    from scipy import optimize

    from .coil import Coil
    from .pose import as_pose
    if not isinstance(coil, Coil):
        raise TypeError(f"coil must be a Coil (tf.coils.load('coil.tcd')), got {type(coil).__name__}")
    if not coil.is_flexible and options is None:
        raise TmsFieldError(f"coil {coil.name!r} has no deformation parameters: there is nothing to fit "
                            "(give FitOptions with rotation/translation ranges to adjust a rigid coil's pose)")
    options = options or FitOptions()
    pose = as_pose(pose)
    if not coil.is_flexible:
        coil = _with_empty_model(coil)
    started = time.perf_counter()
    problem = _Problem(coil, pose, options)
    if len(problem.bounds) == 0:
        raise TmsFieldError("nothing to fit: the coil has no deformation parameters and no rigid ranges were given")
    reach = np.vstack([problem.points(problem.x0)[k] for k in problem.sets])
    lo_head, hi_head = head.nodes.min(axis=0), head.nodes.max(axis=0)
    low = np.maximum(np.minimum(reach.min(axis=0), hi_head) - GRID_MARGIN, lo_head - GRID_MARGIN)
    high = np.minimum(np.maximum(reach.max(axis=0), lo_head) + GRID_MARGIN, hi_head + GRID_MARGIN)
    grid = _DistanceGrid(head.scalp, low, high)
    log.info("flexible fit of %r: distance grid %s nodes in %.1f s; %d parameter(s)", coil.name,
             "x".join(map(str, grid.values.shape)), time.perf_counter() - started, len(problem.bounds))

    budget = options.max_evaluations or 400 * len(problem.bounds)
    local_budget = 200 * len(problem.bounds)
    bar = progress(total=budget + 2 * local_budget if options.global_search is True else local_budget,
                   desc=f"fitting {coil.name}", verbose=stages_shown())

    def cost(x):
        bar.update()
        return problem.cost(x, grid)

    def local_from(start):
        return optimize.minimize(cost, start, method="Powell", bounds=problem.bounds,
                                 options={"xtol": 1e-3, "ftol": 1e-6, "maxfev": local_budget})

    with bar:
        cost_before = cost(problem.x0)
        local = local_from(problem.x0)
        best, best_cost = (local.x, local.fun) if local.fun < cost_before else (problem.x0, cost_before)
        intruding = problem.terms(best, grid)[1].min() < 0
        if options.global_search is True or (options.global_search == "auto" and intruding):
            bar.total += budget + local_budget
            found = optimize.direct(cost, optimize.Bounds(problem.bounds[:, 0], problem.bounds[:, 1]), maxfun=budget,
                                    locally_biased=True)
            local = local_from(found.x)
            if local.fun < best_cost:
                best, best_cost = local.x, local.fun
    best = np.clip(best, problem.bounds[:, 0], problem.bounds[:, 1])
    cost_after = cost(best)
    evaluations = problem.evaluations
    # exact check of the result
    pts = problem.points(best)
    exact = {k: head.scalp.signed_distance(v) if len(v) else np.zeros(0) for k, v in pts.items()}
    d, angles, shifts = problem.split(best)
    fitted = coil.deformed(d) if coil.is_flexible else coil
    fitted_pose = CoilPose(problem.placement(best))
    min_el, casing = float(exact["elements"].min()), exact["casing"]
    result = FlexibleFit(fitted, fitted_pose, tuple(float(v) for v in d), coil.deformations.names,
                         coil.deformations.units,
                         {"rotation_deg": np.round(angles, 3).tolist(), "shift_mm": np.round(shifts, 3).tolist()},
                         1e3 * min_el, 1e3 * float(casing.min()), 1e3 * float(exact["contact"].mean()),
                         cost_before, cost_after, evaluations, time.perf_counter() - started)
    log.info("flexible fit of %r: deformation %s, %d evaluations in %.1f s; closest element %.2f mm, casing %.2f mm "
             "from the scalp", coil.name, np.round(d, 2).tolist(), evaluations, result.seconds,
             result.min_element_distance_mm, result.min_casing_distance_mm)
    if min_el < 0 or float(casing.min()) < options.gap - SAFETY_MARGIN:
        where = pts["elements"][np.argmin(exact["elements"])] if min_el < 0 else pts["casing"][np.argmin(casing)]
        what = (f"a coil element lies {-1e3 * min_el:.2f} mm inside the head" if min_el < 0 else
                f"the casing comes within {1e3 * float(casing.min()):.2f} mm of the scalp "
                f"(gap {1e3 * options.gap:g} mm)")
        raise PlacementError(
            f"coil {coil.name!r} cannot be fitted to {head.name!r} at this pose: at the best setting found "
            f"(deformation {np.round(d, 2).tolist()} {list(coil.deformations.units)}), {what}, at "
            f"{np.round(1e3 * where, 1).tolist()} mm; move the coil farther out (a larger distance), or allow rigid "
            "rotation/translation ranges (FitOptions; --fit-rotation-deg, --fit-translation-mm)")
    return result


def _with_empty_model(coil):
    """A rigid coil as a flexible one with no parameters (only rigid ranges are fitted)."""
    from .deformation import CoilDeformations
    parts = int(max([0, *coil.dipole_part, *coil.segment_part])) + 1
    return dataclasses.replace(coil, deformations=CoilDeformations.build(np.zeros((0, 2)), [], [], [()] * parts))
