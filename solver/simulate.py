"""One-call simulation: ``simulate(head, coil, pose, didt=...)``."""
from __future__ import annotations

from ..coils.pose import check_outside
from ..core.errors import TmsFieldError
from ..core.progress import set_verbose
from .bem.solver import BEMSolver
from .fem.solver import FEMSolver

SOLVERS = {"fem": FEMSolver, "bem": BEMSolver}


def FieldSolver(head, *, method: str = "fem", **options):
    """Solver prepared once for ``head`` (assembly, preconditioner); call ``.solve`` per pose."""
    try:
        cls = SOLVERS[method]
    except KeyError:
        raise TmsFieldError(f"unknown method {method!r}; available: {sorted(SOLVERS)}") from None
    return cls(head, **options)


def simulate(head, coil, pose, *, didt=1e6, method: str = "fem", order: int | None = None,
             conductivities=None, tensors=None, tol: float | None = None, backend="auto",
             check_placement: bool = True, verbose=None):
    """Induced E-field of ``coil`` at ``pose`` on ``head`` for dI/dt ``didt`` (A/s).

    Returns a :class:`FieldResult`. ``order`` picks P1 or P2 elements (default P2);
    ``conductivities`` overrides per tag (S/m), ``tensors`` gives anisotropic (M, 3, 3) values.
    ``method`` "fem" (finite elements) or "bem" (charge-based boundary elements on the
    head's tissue interfaces; isotropic only, no ``order``).
    ``check_placement`` refuses coils whose elements lie inside the head. ``verbose`` sets
    the log level (True/False/"debug").
    """
    set_verbose(verbose)
    if check_placement:
        check_outside(head, coil, pose)
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
    return FieldSolver(head, method=method, **options).solve(coil, pose, didt=didt, backend=backend)
