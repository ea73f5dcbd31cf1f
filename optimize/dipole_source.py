"""Checks on the target point of a point current dipole, and its FEM load vector's choice
(built by :meth:`FEMSolver.dipole_load <tmsfield.solver.fem.solver.FEMSolver.dipole_load>`).

Choice of source model (documented for the reciprocity method): the *direct* point-dipole
load vector. A current dipole p at r0 drives ∇·(σ∇V) = ∇·(p δ(r − r0)); its weak form with
the insulating outer boundary is ∫ σ∇N_k·∇V = p·∇N_k(r0), so the right-hand side is
g_k = p·∇N_k(r0) evaluated in the element that contains r0 (P1: constant gradients, P2:
linear ones at r0's barycentric coordinates). This is exactly the transpose of "evaluate
p·∇φ_h at r0 in that element", so reciprocity reproduces the brute-force FEM field at r0 up
to the interpolation of ∂A/∂t in the coil solve and the Biot–Savart quadrature — not an
approximation of the dipole by monopoles (the Saint-Venant / partial-integration variants
smooth the source over neighbouring nodes and would *not* match a point evaluation).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import PlacementError
from ..head_models.tissues import NON_TARGET_TAGS  # bone (4, 7, 8) and scalp (5); re-exported here


def locate_target(head, target, *, allow_tags=None) -> tuple[int, np.ndarray]:
    """Element (int) containing ``target`` (3,) m and its barycentric coordinates (4,).

    Raises :class:`PlacementError` for a non-finite target, one outside the mesh, or one in
    bone or scalp (unless its tag is in ``allow_tags``)."""
    t = np.asarray(target, dtype=float)
    if t.shape != (3,):
        raise PlacementError(f"target must be one point (3,) in m, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise PlacementError(f"target must be finite, got {t.tolist()}")
    element, bary = head.locate(t[None])
    if element[0] < 0:
        raise PlacementError(f"target {np.round(1e3 * t, 2).tolist()} mm lies outside head {head.name!r} "
                             "(give the target in m inside the brain; the CLI takes mm)")
    tag = int(head.tags[element[0]])
    if tag in NON_TARGET_TAGS and (allow_tags is None or tag not in allow_tags):
        raise PlacementError(f"target {np.round(1e3 * t, 2).tolist()} mm lies in tissue tag {tag} "
                             "(bone/scalp), not in the brain")
    return int(element[0]), bary[0]


def unit_direction(direction) -> np.ndarray:
    """``direction`` (3,) normalised; :class:`PlacementError` if zero or not finite."""
    d = np.asarray(direction, dtype=float)
    n = np.linalg.norm(d) if d.shape == (3,) else np.nan
    if not np.isfinite(n) or n == 0:
        raise PlacementError(f"field direction must be a non-zero finite 3-vector, got {np.ravel(d).tolist()}")
    return d / n
