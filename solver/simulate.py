"""One-call simulation: ``simulate(head, coil, pose, didt=...)``."""
from __future__ import annotations

from ..coils.pose import check_outside
from ..core.errors import TmsFieldError
from ..core.progress import set_verbose
from .fem.solver import FEMSolver

SOLVERS = {"fem": FEMSolver}


def FieldSolver(head, *, method: str = "fem", **options):
    """Solver prepared once for ``head`` (assembly, preconditioner); call ``.solve`` per pose."""
    try:
        cls = SOLVERS[method]
    except KeyError:
        raise TmsFieldError(f"unknown method {method!r}; available: {sorted(SOLVERS)}") from None
    return cls(head, **options)


def simulate(head, coil, pose, *, didt=1e6, method: str = "fem", conductivities=None,
             tol: float | None = None, backend="auto", check_placement: bool = True,
             verbose=None):
    """Induced E-field of ``coil`` at ``pose`` on ``head`` for dI/dt ``didt`` (A/s).

    Returns a :class:`FieldResult`. ``check_placement`` refuses coils whose elements lie
    inside the head. ``verbose`` sets the log level (True/False/"debug").
    """
    set_verbose(verbose)
    if check_placement:
        check_outside(head, coil, pose)
    options = {"conductivities": conductivities}
    if tol is not None:
        options["tol"] = tol
    return FieldSolver(head, method=method, **options).solve(coil, pose, didt=didt, backend=backend)
