"""The FEM field of a solved potential, anywhere in the head: the native field −∇φ − ∂A/∂t
inside an element and its per-tissue patch recovery at the element corners.

Both the solver and a result loaded from a file (``tmsfield.load_result``) evaluate the field
through :class:`FEMField`, so a restored result samples exactly as the original did.
"""
from __future__ import annotations

import functools

import numpy as np

from ...core.backend import get_backend
from ..recovery import PatchRecovery
from . import assembly
from .elements import CENTROID
from .space import FunctionSpace


class FEMField:
    """Field evaluation on ``head`` for order-``order`` potentials.

    ``space`` : the FunctionSpace (built from ``head`` and ``order`` when not given).
    ``backend`` : where the evaluation and the recovery run (the solver's; numpy in and out).
    Potentials ``phi`` are (n_dofs,) V and ``dadt`` is ∂A/∂t at the DOF points (n_dofs, 3) V/m,
    vertices first, as the solver stores them in ``FieldResult.unknowns`` / ``.dadt``.
    """

    def __init__(self, head, order: int, space: FunctionSpace | None = None, backend="cpu"):
        self.head = head
        self.space = FunctionSpace.on(head, order) if space is None else space
        self.be = get_backend(backend)

    @property
    def order(self) -> int:
        return self.space.order

    @functools.cached_property
    def discretisation(self) -> assembly.Discretisation:
        """The space's arrays on the backend."""
        return assembly.Discretisation.on(self.space, self.head, backend=self.be)

    def native(self, phi, dadt, points, element, bary) -> np.ndarray:
        """−∇φ − ∂A/∂t (V/m), (P, 3), at ``points`` inside ``element`` (P,) with barycentrics
        ``bary`` (P, 4) (``points`` unused: the element and barycentrics locate them)."""
        up = self.be.asarray
        return self.be.to_numpy(assembly.field_at(self.discretisation, up(phi), up(dadt), bary, element))

    @functools.cached_property
    def recovery(self) -> PatchRecovery:
        """Patch-recovery weights for this mesh (built on first use): an SPR fit of the centroid
        gradients for P1 (see solver/recovery.py), the patch mean of the corner gradients for P2."""
        head = self.head
        samples = CENTROID.points if self.order == 1 else None
        return PatchRecovery(head.nodes, head.tets, head.tags, head.volumes, samples, backend=self.be)

    def recover(self, phi, dadt) -> np.ndarray:
        """Recovered E per tissue at the corners (M, 4, 3): SPR of −∇φ, minus ∂A/∂t there."""
        d, xp, up = self.discretisation, self.be.xp, self.be.asarray
        phi = up(phi)
        if self.order == 1:
            samples = -assembly.gradient_at(d, phi, CENTROID.points[0])[:, None]
            corners = xp.broadcast_to(samples, (len(samples), 4, 3))   # constant gradient
        else:
            samples = xp.zeros((self.head.n_tets, 0, 3))
            corners = xp.stack([-assembly.gradient_at(d, phi, lam) for lam in np.eye(4)], axis=1)
        return self.be.to_numpy(self.recovery(samples, corners) - up(dadt)[d.cell_dofs[:, :4]])
