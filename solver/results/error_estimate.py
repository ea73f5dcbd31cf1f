"""A-posteriori error estimates of a finite-element field, one per element and one summary number.

P1: recovery-based (Zienkiewicz & Zhu 1987). A recovered field E*, more accurate than the
solver's own field E_h, estimates E_h's error element by element:

    η_K = ( ∫_K |E* − E_h|² dV / V_K )^½        (V/m, the element's RMS discrepancy),

integrated with the degree-2 tetrahedral rule. E* is the solver's per-tissue patch recovery
(solver/recovery.py: SPR of the centroid gradients, linear in each element).
P2: hierarchical basis (solver/fem/hierarchical_estimate.py): the residual of the P2 solution
tested with the cubic surplus functions, diagonally scaled, gives the error's RMS per element.
Recovery does not serve P2: the patch-mean recovery is less accurate than the P2 field itself
(it overestimated the true error 2.3-2.5x on the spheres), and a quadratic patch fit of the P2
field at the degree-2 points underestimated it (0.4-0.6x).

BEM: the field E_δ of the charge variation the constant facet charges miss, at each element's
centroid (solver/bem/error_estimate.py: the charges' own recovery).

The summary number is the relative L2 estimate over the brain (the whole head where it has no
brain tags): (Σ V_K η_K²)^½ / ‖E_h‖. It estimates the error of the solver's own field ("native"
sampling). How well it tracks the true error is measured on spheres against the analytic field
(validation/error_estimate.py).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...head_models.tissues import BRAIN_TAGS
from ..fem.elements import DEGREE2

#: elements per block (bounds the quadrature arrays to ~100 MB)
BLOCK = 100_000


@dataclasses.dataclass(frozen=True)
class ErrorEstimate:
    """``per_element`` (M,) V/m: RMS of |E* − E_h| over each element; ``relative``: the
    relative L2 estimate over ``region`` ("brain" or "head")."""
    per_element: np.ndarray
    relative: float
    region: str
    method: str

    def record(self) -> dict:
        return {"method": self.method, "relative_L2": round(self.relative, 6),
                "region": self.region, "max_element_V_per_m": round(float(self.per_element.max()), 6)}


def _native_at_rule(result, block) -> np.ndarray:
    """E_h (B, Q, 3) at the degree-2 rule's points of the elements ``block``."""
    head, rule = result.head, DEGREE2
    element = np.repeat(block, len(rule.weights))
    bary = np.tile(rule.points, (len(block), 1))
    points = np.einsum("pc,pcd->pd", bary, head.nodes[head.tets[element]])
    return result.native(points, element, bary).reshape(len(block), len(rule.weights), 3)


def recovery_estimate(result) -> ErrorEstimate:
    """The recovery-based estimate of ``result`` (a P1 FEM FieldResult)."""
    head, rule = result.head, DEGREE2
    corners = result.E_corners                                     # E* at the corners, linear inside
    eta2, norm2 = np.empty(head.n_tets), np.empty(head.n_tets)
    for start in range(0, head.n_tets, BLOCK):
        block = np.arange(start, min(start + BLOCK, head.n_tets))
        native = _native_at_rule(result, block)
        recovered = np.einsum("qc,mcd->mqd", rule.points, corners[block])
        eta2[block] = ((recovered - native) ** 2).sum(axis=2) @ rule.weights
        norm2[block] = (native ** 2).sum(axis=2) @ rule.weights
    return _estimate(result, np.sqrt(eta2), norm2, "recovery (Zienkiewicz-Zhu)")


def hierarchical_estimate(result) -> ErrorEstimate:
    """The hierarchical-basis estimate of ``result`` (a P2 FEM FieldResult)."""
    from ..fem.hierarchical_estimate import element_errors
    from ..fem.space import FunctionSpace
    head, rule = result.head, DEGREE2
    eta = element_errors(head, FunctionSpace.on(head, 2), result.sigma, result.unknowns, result.dadt)
    norm2 = np.empty(head.n_tets)
    for start in range(0, head.n_tets, BLOCK):
        block = np.arange(start, min(start + BLOCK, head.n_tets))
        norm2[block] = (_native_at_rule(result, block) ** 2).sum(axis=2) @ rule.weights
    return _estimate(result, eta, norm2, "hierarchical basis (cubic surplus, diagonally scaled)")


def fem_estimator(order: int):
    """The estimate of an order-``order`` FEM result: recovery (P1) or hierarchical (P2)."""
    return recovery_estimate if order == 1 else hierarchical_estimate


def charge_estimate(result, error_field) -> ErrorEstimate:
    """The estimate of a BEM FieldResult: per element |E_δ| at its centroid, E_δ the field of the
    charge variation the constant facet charges miss (``error_field``, a
    :class:`~tmsfield.solver.bem.error_estimate.ChargeErrorField`)."""
    eta = np.linalg.norm(error_field.field(result.head.centroids), axis=1)
    return _estimate(result, eta, (result.E ** 2).sum(axis=1), "charge recovery (linear charge variation)")


def _estimate(result, eta, norm2, method: str) -> ErrorEstimate:
    """The ErrorEstimate of per-element errors ``eta`` (M,) V/m, relative to the field's norm
    (``norm2`` (M,): mean |E_h|² per element) over the brain (the whole head where it has no
    brain tags)."""
    head = result.head
    brain = np.isin(head.tags, BRAIN_TAGS)
    region = brain if brain.any() else np.ones(head.n_tets, dtype=bool)
    v = head.volumes[region]
    relative = float(np.sqrt((v * eta[region] ** 2).sum() / (v * norm2[region]).sum()))
    return ErrorEstimate(eta, relative, "brain" if brain.any() else "head", method)
