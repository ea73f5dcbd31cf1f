"""Field coupling by quasi-potentials (Wang, Grill & Peterchev 2018, "Coupling magnetically
induced electric fields to neurons: longitudinal and transverse activation", Biophys J).

Along each cable the extracellular drive is the quasi-potential φ(s) = −∫ E·dl from the root,
integrated compartment to compartment along the straight path between their centres with
Simpson's rule on E at both ends and the midpoint (exact for fields quadratic along the path;
the trapezoid rule on the same samples is exact only for linear ones). In the cable equation
φ enters as the activating term Σ_j g_ij (φ_i − φ_j), i.e. exactly like NEURON's
``e_extracellular``.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.errors import TmsFieldError
from .cable import Cells


def field_sampler(field) -> Callable[[np.ndarray], np.ndarray]:
    """A function points (P, 3) m → E (P, 3) V/m from a FieldResult (its ``sample``), a
    callable, or a constant vector (3,) (uniform field)."""
    if hasattr(field, "sample"):
        return field.sample
    if callable(field):
        return field
    vector = np.asarray(field, dtype=float)
    if vector.shape != (3,) or not np.isfinite(vector).all():
        raise TmsFieldError("field must be a FieldResult, a callable E(points) or a finite 3-vector")
    return lambda points: np.broadcast_to(vector, np.shape(points)).copy()


def sample_field(cells: Cells, field) -> tuple[np.ndarray, np.ndarray]:
    """E at the compartments (K, N, 3) and at the midpoints to their parents (K, N, 3; the
    root's row is unused), in one call of the sampler. Raises naming the first cell and
    compartment where E is NaN (outside the mesh)."""
    sampler = field_sampler(field)
    cable = cells.cable
    pos = cells.positions
    mid = 0.5 * (pos + pos[:, np.maximum(cable.parent, 0)])
    k, n = pos.shape[:2]
    values = np.asarray(sampler(np.concatenate([pos.reshape(-1, 3), mid.reshape(-1, 3)])), dtype=float)
    if values.shape != (2 * k * n, 3):
        raise TmsFieldError(f"the field returned shape {values.shape} for {2 * k * n} points; need (P, 3)")
    e_nodes, e_mid = values[:k * n].reshape(k, n, 3), values[k * n:].reshape(k, n, 3)
    bad = ~np.isfinite(e_nodes).all(axis=2) | ~np.isfinite(e_mid).all(axis=2)
    if bad.any():
        cell, comp = map(int, np.argwhere(bad)[0])
        where = np.round(pos[cell, comp] * 1e3, 3).tolist()
        raise TmsFieldError(f"cell {cell} of {cable.name!r}: compartment {comp} at {where} mm (or the "
                            f"path to its parent) lies outside the head mesh ({int(bad.any(axis=1).sum())} "
                            "cell(s) affected); place cells inside the mesh")
    return e_nodes, e_mid


def quasi_potentials(cells: Cells, e_nodes: np.ndarray, e_mid: np.ndarray) -> np.ndarray:
    """φ (K, N) in volts for the field samples of :func:`sample_field`, zero at each root."""
    parent = cells.cable.parent
    pos = cells.positions
    k, n = pos.shape[:2]
    phi = np.zeros((k, n))
    if n == 1:
        return phi
    child = np.arange(1, n)
    p = parent[1:]
    dl = pos[:, child] - pos[:, p]
    e = (e_nodes[:, p] + 4.0 * e_mid[:, child] + e_nodes[:, child]) / 6.0
    step = -np.einsum("knj,knj->kn", e, dl)
    if np.array_equal(p, child - 1):      # unbranched: a running sum
        phi[:, 1:] = np.cumsum(step, axis=1)
        return phi
    for i in child:                       # Hines order: the parent is done first
        phi[:, i] = phi[:, parent[i]] + step[:, i - 1]
    return phi
