"""A-posteriori error estimate of a BEM field: the field of the charge variation that constant
facet charges cannot carry.

The solver's charge density ρ_h is constant on each facet. A linear density recovered from it
(at each vertex the area-weighted mean of the facets around it on the same interface) varies
across each facet; with each facet's mean removed this variation, δρ (zero mean, linear on every
facet), is what the constant charges miss to first order. Its field E_δ estimates the error of
the charges' field E_h at any point off the surfaces (a recovery estimate in the spirit of
Zienkiewicz & Zhu, on the surface density). The facet means are left alone: averaging at the
vertices smooths peaks of ρ and moves the means the wrong way (on the spheres, keeping the
mean shift made the estimate 3-4x the true error and point along it instead of against it).

E_δ is summed as the charges of the facets' four midpoint children, each carrying δρ at its
centroid times 4/3: children at their centroids hold 3/4 of a facet's second moment (a child's
own second moment is a sixteenth of its parent's), so the factor makes each facet's dipole
moment, the leading far-field term of a zero-mean density, exact. The children's near field is
integrated exactly like the solver's (solver/bem/charge_field.py).

Measured against the analytic field on nested spheres (validation/results/bem_error_estimate.md):
on four-shell sets 1.07-1.46x the true error at 60 mm and 0.58-1.04x 1 mm under the innermost
surface; on three shells 2.95-3.66x at 60 mm (1.5-4.8x at 80 mm), where the true error is small:
the flat facets' departure from the sphere and the collocation error are not in it. Correlation
with the error field −0.65 to −0.86 at 60 mm (E_δ points against the error, as a correction would).
"""
from __future__ import annotations

import numpy as np

from .charge_field import ChargeField

#: children at their centroids carry 3/4 of a facet's second moment: the charge factor that
#: restores a linear density's dipole moment
DIPOLE_FACTOR = 4.0 / 3.0
#: ROI points the per-facet indicator is averaged over (a subsample of larger regions)
INDICATOR_POINTS = 256
#: facet × point pairs per block of the indicator
INDICATOR_BLOCK = 1 << 21


def facet_gradients(interfaces, density: np.ndarray) -> np.ndarray:
    """In-plane gradient (K, 3) in V/m² of the recovered linear density on each facet (vertex
    values: the area-weighted mean of ``density`` (K,) V/m over the facets of the same interface
    around the vertex)."""
    groups = np.unique(np.stack([interfaces.tag_in, interfaces.tag_out], axis=1), axis=0, return_inverse=True)[1]
    key = interfaces.triangles * (groups.max() + 1) + groups.reshape(-1, 1)          # (vertex, interface)
    weights = np.repeat(interfaces.areas, 3)
    total = np.bincount(key.ravel(), weights * np.repeat(density, 3))
    area = np.bincount(key.ravel(), weights)
    corner = total[key] / area[key]                                                   # (K, 3)
    c, n = interfaces.corners, interfaces.normals
    # ∇λ_k = n × (p_{k+2} − p_{k+1}) / (2A): the gradient of corner k's barycentric coordinate
    opposite = np.roll(c, -2, axis=1) - np.roll(c, -1, axis=1)
    grad_bary = np.cross(n[:, None], opposite) / (2 * interfaces.areas[:, None, None])
    return np.einsum("kc,kcd->kd", corner, grad_bary)


class ChargeErrorField:
    """E_δ, the estimated error field of the charges ``density`` (K,) V/m solved on the
    interfaces of ``charges`` (a ChargeField): evaluated at points with :meth:`field`, split by
    facet with :meth:`facet_indicators`."""

    def __init__(self, charges: ChargeField, density: np.ndarray):
        surf = charges.interfaces
        self.interfaces, self.gradients = surf, facet_gradients(surf, density)
        children, parent = surf.refined(np.ones(surf.n_facets, dtype=bool))
        offset = np.einsum("kd,kd->k", self.gradients[parent], children.centroids - surf.centroids[parent])
        self._children = ChargeField(children, options=charges.options, backend=charges.be)
        self._child_density = DIPOLE_FACTOR * offset
        self._parent = parent

    def field(self, points: np.ndarray) -> np.ndarray:
        """E_δ (P, 3) V/m at ``points`` (P, 3) m off the surfaces."""
        return self._children.field(points, self._child_density)

    def dipoles(self) -> np.ndarray:
        """Each facet's dipole moment of δρ (K, 3) (charge/ε0 × m: V·m)."""
        c = self._children.interfaces
        moments = (self._child_density * c.areas)[:, None] * (c.centroids - self.interfaces.centroids[self._parent])
        out = np.zeros((self.interfaces.n_facets, 3))
        np.add.at(out, self._parent, moments)
        return out

    def facet_indicators(self, points: np.ndarray) -> np.ndarray:
        """Per facet (K,) V/m: the RMS over ``points`` (P, 3) m (at most INDICATOR_POINTS of them,
        evenly subsampled) of the field of its δρ, as a point dipole: where refining shrinks the
        estimate at those points."""
        points = np.asarray(points, dtype=float)
        points = points[np.linspace(0, len(points) - 1, min(len(points), INDICATOR_POINTS)).astype(int)]
        p, centroids = self.dipoles(), self.interfaces.centroids
        out = np.empty(len(p))
        step = max(1, INDICATOR_BLOCK // len(points))
        for start in range(0, len(p), step):
            block = slice(start, start + step)
            r = points[None] - centroids[block, None]                                   # (B, P, 3)
            dist = np.linalg.norm(r, axis=2)
            r_hat = r / dist[..., None]
            dipole = p[block, None]
            field = (3 * np.einsum("bpd,bpd->bp", dipole, r_hat)[..., None] * r_hat - dipole) / (
                4 * np.pi * dist[..., None] ** 3)
            out[block] = np.sqrt((field ** 2).sum(axis=2).mean(axis=1))
        return out
