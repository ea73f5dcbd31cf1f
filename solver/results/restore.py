"""The solver state of a loaded result: its native field and corner recovery rebuilt from the
stored arrays, through the same evaluators the solvers use (solver.fem.fields, solver.bem.fields).

Built lazily: the FEM function space (P2: the edge numbering) and the BEM interfaces and near
field are made on the first ``sample``/``E_corners`` that needs them, not on load.
"""
from __future__ import annotations

import functools

from ...core.errors import TmsFieldError


def _unavailable(what: str):
    def fail(*args):
        raise TmsFieldError(f"this loaded result has no {what}: the file does not say which solver made it "
                            "(use interpolation='element')")
    return fail


def fem(head, order: int, unknowns, dadt):
    """(native, recover, estimator) of an order-``order`` FEM potential ``unknowns`` (n_dofs,)
    with ∂A/∂t ``dadt`` (n_dofs, 3) at the DOF points."""
    from ..fem.fields import FEMField
    from .error_estimate import fem_estimator
    fields = functools.cache(lambda: FEMField(head, int(order)))

    def native(points, element, bary):
        return fields().native(unknowns, dadt, points, element, bary)
    return native, lambda: fields().recover(unknowns, dadt), fem_estimator(int(order))


def bem_options(settings: dict):
    """The BEMOptions a result's solver ran with, from its provenance["solver"] ``settings``
    (their "options"; the near-field factor alone for results that predate them)."""
    from ..options import BEMOptions
    stored = settings.get("options")
    if isinstance(stored, dict):
        return BEMOptions(**stored)
    return BEMOptions().replace(near_factor=settings.get("near_factor"))


def bem(head, provenance: dict, density, coil, pose, didt, E, interfaces=None):
    """(native, recover, estimator) of BEM facet charges ``density`` on the interfaces of ``head``
    (conductivity overrides and solver options from ``provenance``), the coil at ``pose``
    driven at ``didt`` giving the primary field, and ``E`` (M, 3) the centroid field the
    recovery fits. ``interfaces``: the stored Interfaces of the charges (None, files written
    before they were stored: the head's own)."""
    from ..bem.charge_field import ChargeField
    from ..bem.fields import BEMField
    from ..bem.interfaces import Interfaces
    overrides, options = provenance.get("conductivity_overrides", {}), bem_options(provenance.get("solver", {}))
    fields = functools.cache(lambda: BEMField(head, ChargeField(interfaces or Interfaces.from_head(head, overrides),
                                                                options=options)))
    def estimator(result):
        return fields().estimate(density, result)
    if coil is None:
        native = _unavailable("native BEM field (no coil stored)")
    else:
        dadt = functools.partial(coil.dadt, pose=pose, didt=didt)

        def native(points, element, bary):
            return fields().native(density, dadt, points, element, bary)
    return native, lambda: BEMField(head, None).recover(E), estimator


def none():
    """(native, recover, estimator) of a result without a solver behind it."""
    return _unavailable("native field"), _unavailable("recovered field"), None
