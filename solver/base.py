"""The FieldSolver base class: one head prepared once, many coil placements solved on it.

``FieldSolver(head, method="fem"|"bem", **options)`` builds the subclass for ``method``
(:class:`~tmsfield.solver.fem.solver.FEMSolver` or :class:`~tmsfield.solver.bem.solver.BEMSolver`),
so ``isinstance(solver, FieldSolver)`` holds for both. ``method`` only ever names the solver
kind; how the coil's primary field ∂A/∂t is evaluated is the ``primary`` argument of
``solve``/``solve_many``/``solve_batch`` ("auto" | "direct" | "fmm", handed to
``coil.dadt(..., method=primary)``, the coil's own evaluation method). Also the input checks
shared by the solvers.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..coils.pose import as_pose
from ..core.checks import check_choice
from ..core.errors import PlacementError, TmsFieldError
from ..core.progress import progress

#: placements solved together by :meth:`FieldSolver.solve_many` (FEM: one block-CG solve;
#: 8 columns took 32 block iterations where one alone takes 47, P2 on 194k tetrahedra)
BATCH_SIZE = 8
#: algorithms for the primary field ∂A/∂t (``primary=``; coils/primary.py)
PRIMARY = ("auto", "direct", "fmm")


def primary_argument(func):
    """Decorator for the solve methods: ``method=`` (the solver kind's name, given when the
    solver is built) gets a TypeError pointing to ``primary=``; ``primary`` is checked."""
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        if "method" in kwargs:
            raise TypeError(f"{type(self).__name__}.{func.__name__}() got method={kwargs['method']!r}: the "
                            f"primary-field algorithm is primary= ({', '.join(map(repr, PRIMARY))}); method= "
                            f"names the solver kind when it is built, e.g. tf.FieldSolver(head, method='bem')")
        check_choice(kwargs.get("primary", "auto"), PRIMARY, "primary")
        return func(self, *args, **kwargs)
    return wrapper


class _SolverKind(type):
    """Calling the base class builds the subclass that ``method`` names."""

    def __call__(cls, *args, method: str | None = None, **options):
        if cls is FieldSolver:
            kinds = FieldSolver.kinds()
            cls = kinds[check_choice("fem" if method is None else method, kinds, "method")]
        elif method is not None and method != cls.method:
            raise TmsFieldError(f"{cls.__name__} is the {cls.method!r} solver, got method={method!r}")
        return super().__call__(*args, **options)


class FieldSolver(metaclass=_SolverKind):
    """Solver prepared once for ``head`` (assembly, preconditioner); ``solve`` per placement.

    ``FieldSolver(head, method="fem", **options)`` builds a FEMSolver (``method="bem"``: a
    BEMSolver) with that subclass's keyword arguments (e.g. ``options=FEMOptions(...)``).
    Subclasses set ``method`` and implement ``solve(coil, pose, *, didt, primary, backend,
    initial)`` returning a result whose ``unknowns`` can start the next solve, and may override
    :meth:`solve_batch` to solve several placements together.
    """
    #: the solver kind ("fem", "bem"): set by each subclass
    method: str = ""
    _kinds: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.method:
            FieldSolver._kinds[cls.method] = cls

    @staticmethod
    def kinds() -> dict:
        """{method: subclass} of the solver kinds."""
        from .bem import solver as _bem  # noqa: F401 - each registers its subclass on import
        from .fem import solver as _fem  # noqa: F401
        return dict(sorted(FieldSolver._kinds.items()))

    @primary_argument
    def solve_many(self, coil, poses, *, didt=1e6, primary: str = "auto", backend=None,
                   warm_start: bool = True, batch_size: int = BATCH_SIZE, verbose: bool = True) -> list:
        """One result per placement, reusing everything prepared for this head.

        ``coil`` is a Coil or a sequence of Coils (one per pose); ``poses`` a sequence of
        CoilPose or of 4×4 matrices (m). Placements are solved ``batch_size`` at a time
        (:meth:`solve_batch`); ``warm_start`` starts each batch from the previous batch's
        solutions (neighbouring poses, as in optimisation sweeps). ``primary``/``backend``
        choose how the primary field is evaluated (``backend`` None: the solver's). A progress
        bar runs over the placements (silenced by ``verbose=False``).
        """
        poses = [as_pose(p, f"poses[{i}]") for i, p in enumerate(poses)]
        coils = list(coil) if isinstance(coil, (list, tuple)) else [coil] * len(poses)
        if len(coils) != len(poses):
            raise PlacementError(f"got {len(coils)} coils for {len(poses)} poses")
        for distinct in {id(c): c for c in coils}.values():
            checked_didt(didt, checked_coil(distinct))
        size = int(batch_size)
        if size < 1:
            raise PlacementError(f"batch_size must be a positive integer, got {batch_size}")
        results = []
        with progress(total=len(poses), desc="placements", verbose=verbose) as bar:
            for start in range(0, len(poses), size):
                chunk = slice(start, start + size)
                previous = results[-size:] if warm_start else None
                results += self.solve_batch(coils[chunk], poses[chunk], didt=didt, primary=primary,
                                            backend=backend, previous=previous)
                bar.update(len(results) - bar.n)
        return results

    @primary_argument
    def solve_batch(self, coils, poses, *, didt, primary, backend, previous) -> list:
        """Results for paired ``coils`` and ``poses``. ``previous`` (earlier results, possibly
        none) may start the iterative solves; None: every solve starts cold. This default
        solves one placement after the other, each started from the last."""
        results, last = [], (previous or [])[-1:]
        for c, p in zip(coils, poses):
            start = last[0].unknowns if last else None
            results.append(self.solve(c, p, didt=didt, primary=primary, backend=backend, initial=start))
            last = results[-1:] if previous is not None else []
        return results


def checked_coil(coil, what: str = "coil"):
    """``coil`` if it is a Coil, else a TypeError naming ``what`` (a file name gets the fix)."""
    from ..coils.coil import Coil
    if isinstance(coil, Coil):
        return coil
    if isinstance(coil, (str, os.PathLike)):
        raise TypeError(f"{what} must be a Coil, got the file name {str(coil)!r}: load it first with "
                        f"tf.coils.load({str(coil)!r})")
    raise TypeError(f"{what} must be a Coil (e.g. tf.coils.figure8() or tf.coils.load(FILE)), "
                    f"got {type(coil).__name__}")


def checked_didt(didt, coil) -> tuple[float, ...]:
    """dI/dt (A/s) as a tuple: one value > 0, or one finite value per stimulator of ``coil``
    (negative reverses that stimulator, zero switches it off; not all zero); none above
    :data:`MAX_DIDT` in magnitude."""
    try:
        values = np.atleast_1d(np.asarray(didt, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"didt must be a number in A/s (or one per stimulator), got {didt!r}") from None
    hint = " (dI/dt is in A/s: 100 A/µs is 1e8)"
    if not len(values) or not np.isfinite(values).all():
        raise TmsFieldError(f"didt must be finite, got {values.tolist()} A/s{hint}")
    if len(values) == 1 and values[0] <= 0:
        raise TmsFieldError(f"didt must be > 0 A/s, got {values[0]:g}{hint}")
    if np.abs(values).max() > MAX_DIDT:
        raise TmsFieldError(f"didt {np.abs(values).max():g} A/s is implausible (TMS stimulators reach about 3e8 A/s; "
                            f"at most {MAX_DIDT:g} is accepted){hint}")
    if len(values) > 1 and (len(values) != coil.n_stimulators or not values.any()):
        raise TmsFieldError(f"coil {coil.name!r} has {coil.n_stimulators} stimulator(s): give one dI/dt or "
                            f"one per stimulator, not all zero; got {values.tolist()} A/s")
    return tuple(float(v) for v in values)


#: dI/dt above this (A/s) is refused as a unit mistake: stimulators reach ~3e8 A/s (300 A/µs)
MAX_DIDT = 1e10


def checked_primary(dadt: np.ndarray) -> np.ndarray:
    """``dadt`` (n, 3) V/m, or a TmsFieldError when it is not finite or zero everywhere (a
    failed evaluation or a coil without current: the answer would be a zero or NaN field)."""
    if not np.isfinite(dadt).all():
        raise TmsFieldError("the primary field ∂A/∂t is not finite (overflow or NaN): check dI/dt and the coil")
    if not np.any(dadt):
        raise TmsFieldError("the primary field ∂A/∂t is zero everywhere: the coil carries no current "
                            "(all dI/dt zero?) or its evaluation failed")
    return dadt


def checked_field(E: np.ndarray) -> np.ndarray:
    """``E`` (M, 3) V/m, or a TmsFieldError when it holds NaN or infinities."""
    if not np.isfinite(E).all():
        bad = int((~np.isfinite(E).all(axis=1)).sum())
        raise TmsFieldError(f"the computed field is not finite in {bad} element(s): the solve failed; check the "
                            "mesh quality (degenerate elements) and the conductivities")
    return E


def placement_inputs(coil, pose, didt):
    """Validated ``(coil, pose, didt)`` of one placement (see :func:`checked_coil`,
    :func:`tmsfield.coils.pose.as_pose`, :func:`checked_didt`): wrong types are TypeErrors
    naming the parameter, impossible values TmsFieldErrors, before any work starts."""
    coil = checked_coil(coil)
    return coil, as_pose(pose), checked_didt(didt, coil)
