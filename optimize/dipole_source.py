"""The FEM load vector of a point current dipole, and checks on the target point.

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

#: tissues a stimulation target may not lie in: bone (4, 7, 8) and scalp (5), SimNIBS tags
NON_TARGET_TAGS = (4, 5, 7, 8)


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


def dipole_load(space, grad_lambda, element: int, bary, moments) -> np.ndarray:
    """Right-hand sides g (n_dofs, K) for K unit-less current dipoles ``moments`` (K, 3) A·m at
    one point with barycentric coordinates ``bary`` (4,) in ``element``: g_k = p·∇N_k(r0)."""
    grads = space.element.gradients(np.asarray(bary, float)[None], grad_lambda[[element]])[0]  # (nb, 3)
    local = grads @ np.asarray(moments, float).T                                             # (nb, K)
    out = np.zeros((space.n_dofs, local.shape[1]))
    out[space.cell_dofs[element]] = local
    return out
