"""One-call simulation: ``simulate(head, coil, pose, didt=...)``."""
from __future__ import annotations

import os

from ..coils.pose import check_placement as check_coil_placement
from ..core.backend import get_backend
from ..core.checks import check_choice
from ..core.errors import TmsFieldError
from ..core.progress import scoped_verbose, timed
from ..head_models.mesh import HeadMesh
from .base import FieldSolver, placement_inputs


@scoped_verbose
def simulate(head, coil, pose, *, didt=1e6, method: str = "fem", order: int | None = None,
             conductivities=None, tensors=None, tol: float | None = None, backend="auto",
             check_placement: bool = True, fit=None, tolerance: float | None = None, roi=None,
             adaptive=None, verbose=None):
    """Induced E-field of ``coil`` at ``pose`` on ``head`` for dI/dt ``didt`` (A/s).

    Returns a :class:`FieldResult`. ``order`` picks P1 or P2 elements (default P2);
    ``conductivities`` overrides per tag (S/m), ``tensors`` gives anisotropic (M, 3, 3) values.
    ``method`` "fem" (finite elements) or "bem" (charge-based boundary elements on the
    head's tissue interfaces; isotropic only, no ``order``). ``backend`` ("auto" | "cpu" |
    "gpu"): where the FEM assembles and solves, the BEM's collocation product runs, and the
    primary field is summed (README "GPU" says what runs where).
    ``pose`` is a CoilPose or a 4×4 matrix in metres. ``check_placement`` refuses coils whose
    elements lie inside the head or whose centre is more than 30 mm from the scalp. Wrong types
    raise TypeError naming the parameter, impossible values TmsFieldError, before any solve.
    ``fit``: flexible coils (.tcd files with deformations: H1/H4/H7, MST-Twin) are fitted to the
    scalp before the solve (coils/flexible_fit.py) when ``fit`` is None (default options) or a
    :class:`~tmsfield.coils.flexible_fit.FitOptions`; ``fit=False`` takes the coil as it is. A
    FitOptions also fits a rigid coil's pose within its ranges. The fit is recorded in
    ``result.provenance["coil_fits"]`` and the summary; ``result.coil``/``result.pose`` are the fitted ones.
    ``tolerance`` (relative, 0.01 = 1 %) with ``roi`` (a SphereROI, MaskROI or CortexROI): refine
    until the error estimate over the region's elements is at most ``tolerance``
    (solver/adaptive.py; BEM: facet subdivision, FEM: gmsh remeshing of nested heads; the result
    may then be on a new mesh). ``adaptive``: an :class:`~tmsfield.solver.options.AdaptiveOptions`
    for the other settings (steps, marking share, size limit). The steps are in
    ``result.provenance["adaptive"]``.
    ``verbose`` sets the log level (True/False/"debug") for this call only.
    Several coils fired together: ``coil``, ``pose`` and ``didt`` as lists of equal length (FEM;
    superposition in one solve, :meth:`FEMSolver.solve_together`).
    """
    if not isinstance(head, HeadMesh):
        raise TypeError("head must be a HeadMesh (tf.load_head(FILE), tf.head_models.demo_head(), ...), got "
                        + (f"the file name {str(head)!r}: load it with tf.load_head({str(head)!r})"
                           if isinstance(head, (str, os.PathLike)) else type(head).__name__))
    check_choice(method, FieldSolver.kinds(), "method")
    together = isinstance(coil, (list, tuple))
    if together:
        if method != "fem":
            raise TmsFieldError("several coils fired together are solved by the FEM (method='fem')")
        if not (isinstance(pose, (list, tuple)) and isinstance(didt, (list, tuple))):
            raise TypeError("for several coils give pose and didt as lists too: one pose and one dI/dt per coil")
        inputs = [placement_inputs(c, p, d) for c, p, d in zip(coil, pose, didt)]
    else:
        coil, pose, didt = placement_inputs(coil, pose, didt)
        inputs = [(coil, pose, didt)]
    backend = get_backend(backend)                          # a missing GPU fails before any work
    placement, fits = {}, []
    if fit is not False and any(fit is not None or c.is_flexible for c, _, _ in inputs):
        with timed(placement, "coil fit", verbose=False):     # the fit shows its own progress bar
            inputs, fits = _fitted(head, inputs, fit)
        if together:
            coil, pose = [c for c, _, _ in inputs], [p for _, p, _ in inputs]
        else:
            coil, pose, didt = inputs[0]
    if check_placement:
        with timed(placement, "placement check"):
            for c, p, _ in inputs:
                check_coil_placement(head, c, p)
    options = {"conductivities": conductivities}
    if method == "bem" and (order is not None or tensors is not None):
        raise TmsFieldError("the BEM has no element order and takes no anisotropic tensors; "
                            "use method='fem' for those")
    if tensors is not None:
        options["tensors"] = tensors
    if tol is not None:
        options["tol"] = tol
    if order is not None:
        options["order"] = order
    options["backend"] = backend
    if tolerance is not None or adaptive is not None:
        if together or tensors is not None or tol is not None:
            raise TmsFieldError("adaptive refinement (tolerance=) takes one coil, isotropic conductivities and "
                                "the default solver tolerance")
        result = _adaptive(head, coil, pose, didt, method, order, conductivities, backend, tolerance, roi, adaptive)
        result.timings = {**placement, **result.timings}
        if fits:
            result.provenance["coil_fits"] = fits
        return result
    solver = FieldSolver(head, method=method, **options)
    if together:
        result = solver.solve_together(coil, pose, didt=didt, backend=backend)
    else:
        result = solver.solve(coil, pose, didt=didt, backend=backend)
    result.timings = {**placement, **result.timings}
    if fits:
        result.provenance["coil_fits"] = fits
    return result


def _fitted(head, inputs, fit):
    """``inputs`` with each flexible coil (or every coil, for explicit FitOptions) fitted to the
    scalp, and the fit records."""
    from ..coils.flexible_fit import FitOptions, fit_to_scalp
    if fit is not None and not isinstance(fit, FitOptions):
        raise TypeError(f"fit must be None (fit flexible coils), False (no fit) or a FitOptions, got {fit!r}")
    out, records = [], []
    for c, p, d in inputs:
        if fit is None and not c.is_flexible:
            out.append((c, p, d))
            continue
        done = fit_to_scalp(head, c, p, fit)
        out.append((done.coil, done.pose, d))
        records.append({"coil": c.name, **done.record()})
    return out, records


def _adaptive(head, coil, pose, didt, method, order, conductivities, backend, tolerance, roi, adaptive):
    """The adaptive solve of :func:`simulate` (solver/adaptive.py)."""
    from . import adaptive as refine
    from .options import AdaptiveOptions, FEMOptions
    if adaptive is not None and not isinstance(adaptive, AdaptiveOptions):
        raise TypeError(f"adaptive must be an AdaptiveOptions, got {type(adaptive).__name__}")
    options = (adaptive or AdaptiveOptions()).replace(tolerance=tolerance)
    if roi is None or not hasattr(roi, "elements"):
        raise TmsFieldError("adaptive refinement needs the region it aims at: roi=SphereROI(center, radius) "
                            f"(or a MaskROI / CortexROI), got {roi!r}")
    elements = roi.elements(head)                          # an empty region fails before any solve
    common = {"didt": didt, "options": options, "conductivities": conductivities, "backend": backend}
    if method == "bem":
        return refine.adaptive_bem(head, coil, pose, roi_points=head.centroids[elements], **common)
    return refine.adaptive_fem(head, coil, pose, roi=roi,
                               solver_options=None if order is None else FEMOptions(order=order), **common)
