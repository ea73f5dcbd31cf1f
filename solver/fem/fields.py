"""The FEM field of a solved potential, anywhere in the head: the native field −∇φ − ∂A/∂t
inside an element and its per-tissue patch recovery at the element corners.

Both the solver and a result loaded from a file (``tmsfield.load_result``) evaluate the field
through :class:`FEMField`, so a restored result samples exactly as the original did.
"""
from __future__ import annotations

import functools

import numpy as np

from ..recovery import PatchRecovery
from . import assembly
from .elements import CENTROID
from .space import FunctionSpace


class FEMField:
    """Field evaluation on ``head`` for order-``order`` potentials.

    ``space`` : the FunctionSpace (built from ``head`` and ``order`` when not given).
    Potentials ``phi`` are (n_dofs,) V and ``dadt`` is ∂A/∂t at the DOF points (n_dofs, 3) V/m,
    vertices first, as the solver stores them in ``FieldResult.unknowns`` / ``.dadt``.
    """

    def __init__(self, head, order: int, space: FunctionSpace | None = None):
        self.head = head
        self.space = FunctionSpace.on(head, order) if space is None else space

    @property
    def order(self) -> int:
        return self.space.order

    @functools.cached_property
    def discretisation(self) -> assembly.Discretisation:
        """The space's arrays on the CPU (fields of results are evaluated with numpy)."""
        return assembly.Discretisation.on(self.space, self.head)

    def native(self, phi, dadt, points, element, bary) -> np.ndarray:
        """−∇φ − ∂A/∂t (V/m), (P, 3), at ``points`` inside ``element`` (P,) with barycentrics
        ``bary`` (P, 4) (``points`` unused: the element and barycentrics locate them)."""
        return assembly.field_at(self.discretisation, phi, dadt, bary, element)

    @functools.cached_property
    def recovery(self) -> PatchRecovery:
        """Patch-recovery weights for this mesh (built on first use): an SPR fit of the centroid
        gradients for P1 (see solver/recovery.py), the patch mean of the corner gradients for P2."""
        head = self.head
        samples = CENTROID.points if self.order == 1 else None
        return PatchRecovery(head.nodes, head.tets, head.tags, head.volumes, samples)

    def recover(self, phi, dadt) -> np.ndarray:
        """Recovered E per tissue at the corners (M, 4, 3): SPR of −∇φ, minus ∂A/∂t there."""
        d = self.discretisation
        if self.order == 1:
            samples = -assembly.gradient_at(d, phi, CENTROID.points[0])[:, None]
            corners = np.broadcast_to(samples, (len(samples), 4, 3))   # constant gradient
        else:
            samples = np.zeros((len(phi), 0, 3))
            corners = np.stack([-assembly.gradient_at(d, phi, lam) for lam in np.eye(4)], axis=1)
        return self.recovery(samples, corners) - dadt[self.head.tets]
