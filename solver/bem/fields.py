"""The BEM field of solved facet charges on a head's tetrahedra: native (primary plus charge
field at any point) and the per-tissue patch recovery of the centroid values.

Both the solver and a result loaded from a file (``tmsfield.load_result``) evaluate the field
through :class:`BEMField`, so a restored result samples exactly as the original did.
"""
from __future__ import annotations

import functools

import numpy as np

from ..recovery import PatchRecovery


class BEMField:
    """Field evaluation on ``head`` (a HeadMesh) for charges of ``charges`` (a ChargeField on
    the head's interfaces)."""

    def __init__(self, head, charges):
        self.head, self.charges = head, charges

    def native(self, density, dadt, points, element, bary) -> np.ndarray:
        """E_p + E_charges (V/m), (P, 3), at ``points`` (P, 3) m for facet charges ``density``
        (K,) and ``dadt`` a callable points → ∂A/∂t (element and bary unused: pointwise)."""
        return self.charges.field(points, density) - dadt(points)

    def estimate(self, density, result):
        """The error estimate (an ErrorEstimate) of ``result``, a FieldResult of the charges
        ``density`` (K,) V/m (solver/results/error_estimate.charge_estimate)."""
        from ..results.error_estimate import charge_estimate
        from .error_estimate import ChargeErrorField
        return charge_estimate(result, ChargeErrorField(self.charges, density))

    @functools.cached_property
    def recovery(self) -> PatchRecovery:
        """Patch-recovery weights for this mesh, built on first use."""
        head = self.head
        return PatchRecovery(head.nodes, head.tets, head.tags, head.volumes, np.full((1, 4), 0.25))

    def recover(self, E) -> np.ndarray:
        """Per-tissue corner field (M, 4, 3): linear patch fit of the centroid values ``E`` (M, 3)."""
        samples = E[:, None]
        return self.recovery(samples, np.broadcast_to(samples, (len(E), 4, 3)))
