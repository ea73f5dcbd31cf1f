"""Field and potential of piecewise-constant charges on the interface facets.

A facet j with charge density ρ_j (in V/m: charge per area over ε0) contributes
E(r) = ρ_j/(4π) ∫_Tj (r − r')/|r − r'|³ dS' and φ(r) = ρ_j/(4π) ∫_Tj dS'/|r − r'|. Far from a
facet its charge acts as ``far_charges`` point charges (1: at the centroid; 3: at the 3-point
rule's points, which match the facet's second moments); (point, facet) pairs closer than
``near_factor`` facet sizes get the exact closed-form integral instead
(solver/bem/integrals.py), and pairs between ``near_factor`` and ``intermediate_factor`` sizes
the facet's 6-point rule (six point charges). One point charge errs by ~(size/distance)² of a
facet's field, three by ~(size/distance)³, the 6-point rule by ~(size/distance)⁵: with one
point charge per facet from 2 sizes on, a neighbouring surface a few facet sizes away is summed
with an error that does not shrink when the facets do (the BEM's error on nested spheres rose
under refinement).
Row i of the collocation operator is n_i·E averaged over ``near_rule`` observation points on
facet i, its near and far parts alike: a near pair's entry is facet j's closed-form field at
those points, except for facets sharing a vertex or an edge, whose field is log-singular on i
there: their entry is the same average computed as the flux of j's field through i, i's solid
angle seen from points on j (a bounded integrand; see ``_pair_rules``). The near part is a
precomputed sparse matrix (its integrals on the backend: the GPU where there is one) and the
far part either a precomputed dense matrix (up to ``dense_max_facets`` facets: one BLAS product
per iteration), an FMM (fmm3dpy) or direct sums on the backend; at other points, blocked direct
sums or the FMM, with the near pairs integrated on the fly. The settings and the
measurements behind their defaults are the fields of :class:`~tmsfield.solver.options.BEMOptions`.
"""
from __future__ import annotations

import functools
import types

import numpy as np
import scipy.sparse as sp

from ...core.backend import get_backend
from ...core.errors import TmsFieldError
from ...core.fmm import kernel_scale, lfmm3d
from ...core.pairwise import inverse_power_sums
from ..options import BEMOptions
from . import integrals
from .quadrature import TRIANGLE_RULES, graded_rule

#: points of the rule summing a facet's field between near_factor and intermediate_factor sizes
#: (TRIANGLE_RULES, degree 4)
INTERMEDIATE_POINTS = 6

#: pairs per block in direct sums and exact near-field integrals (bounds memory to ~100 MB)
CHUNK_PAIRS = 1 << 20
#: pairs per block when filling the dense far-field matrix (cache-sized: 2.4 s instead of 3.2 s
#: with CHUNK_PAIRS blocks for the 15k-facet head)
DENSE_BLOCK_PAIRS = 1 << 18
#: points per neighbour search (bounds the memory of its pair list)
POINTS_PER_BLOCK = 16_384


class ChargeField:
    """Evaluates the field of facet charges on ``interfaces`` (an Interfaces).

    ``options`` (a :class:`BEMOptions`, default BEMOptions()) gives the far-field summation,
    near-field factor and rule and the FMM precision; ``far_field``, ``near_factor``, ``eps``
    (the FMM precision) and ``near_rule`` override single settings. ``far_field``: how the
    collocation operator sums the far field: "dense" (precomputed matrix), "fmm" (fmm3dpy),
    "direct" (tiled direct sums on ``backend``), or "auto" (direct on a GPU, else dense up to
    ``options.dense_max_facets`` facets, then fmm). The operator's near field is built once
    (its integrals on ``backend``, pairs and sparse matrices on the CPU) and reused for every
    right-hand side.
    """

    def __init__(self, interfaces, *, far_field: str | None = None, near_factor: float | None = None,
                 eps: float | None = None, near_rule: int | None = None, options: BEMOptions | None = None,
                 backend="cpu"):
        options = (options or BEMOptions()).replace(far_field=far_field, near_factor=near_factor, fmm_eps=eps,
                                                    near_rule=near_rule)
        self.options, self.interfaces = options, interfaces
        self.be = get_backend(backend)
        self.near_factor, self.eps, self.near_rule = options.near_factor, options.fmm_eps, options.near_rule
        self.intermediate_factor = max(options.intermediate_factor, options.near_factor)
        self._tree = None
        self.far_field = options.far_field
        if self.far_field == "auto":
            self.far_field = ("direct" if self.be.name == "gpu" else
                              "dense" if interfaces.n_facets <= options.dense_max_facets else "fmm")

    # --- far field: point charges at the rule points ----------------------------------
    @functools.cached_property
    def _charge_rule(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the far field puts each facet's charge: the ``far_charges``-point rule's points
        on every facet (K, C, 3) m and their weights (C,) (C = 1: the centroid)."""
        return self._rule_on_facets(self.options.far_charges)

    def _rule_on_facets(self, n_points: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_points``-point triangle rule's points on every facet (K, Q, 3) m, and its
        weights (Q,)."""
        bary, weights = TRIANGLE_RULES[n_points]
        return np.einsum("qj,kjd->kqd", bary, self.interfaces.corners), weights

    def _point_charges(self, density):
        """The far field's point charges for densities (K,): positions (K·C, 3) m and charges
        (K·C,) (density × area × rule weight / 4π)."""
        points, weights = self._charge_rule
        charges = (density * self.interfaces.areas / (4 * np.pi))[:, None] * weights
        return points.reshape(-1, 3), charges.ravel()

    def _point_charge_sum(self, xp, charge_points, areas, targets, f, kind: str):
        """Field ((P, 3), kind "field") or potential ((P,), "potential") per unit density (times
        4π) of facets ``f``'s point charges at ``targets`` (P, 3): charge_points (K, C, 3) and
        areas (K,) on the array module ``xp``."""
        out = 0
        for k, w in enumerate(self._charge_rule[1]):
            d = targets - charge_points[f, k]
            dist = xp.linalg.norm(d, axis=1)
            out = out + w * (d / dist[:, None] ** 3 if kind == "field" else 1.0 / dist)
        return out * (areas[f, None] if kind == "field" else areas[f])

    @functools.cached_property
    def _observation(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each row of the collocation operator is taken: the near rule's points on every
        facet (K·Q, 3) m, facet by facet, and their weights (Q,) (Q = 1: the centroids). Near
        and far parts of a row are averaged over the same points."""
        points, weights = self._rule_on_facets(self.near_rule)
        return points.reshape(-1, 3), weights

    def _row_average(self, field, xp=np):
        """n_i · (weighted mean of ``field`` (K·Q, 3) over facet i's observation points), (K,)."""
        weights = self._observation[1]
        normals = self.interfaces.normals if xp is np else self._facets.normals
        field = field.reshape(len(normals), len(weights), 3)
        return xp.einsum("kqd,kd->k", field, normals) if len(weights) == 1 else \
            xp.einsum("kqd,q,kd->k", field, xp.asarray(weights), normals)

    def _far(self, targets, density, kind: str):
        """Point-charge sums at ``targets`` (P, 3) (coincident charges skipped), numpy."""
        sources, charges = self._point_charges(density)
        direct = self.far_field == "direct" or len(targets) * len(sources) <= self.options.fmm_min_pairs
        if not direct:
            return _fmm(sources, charges, targets, kind, self.eps)
        be = self.be if self.far_field == "direct" else get_backend("cpu")
        return be.to_numpy(direct_sums(sources, charges, targets, kind, be))

    @functools.cached_property
    def _dense_far(self) -> np.ndarray:
        """(K, K) float32: Σ_q Σ_c w_q w_c n_i·(x_iq − y_jc) A_j/(4π|x_iq − y_jc|³), the far
        field per unit density of facet j's point charges y_jc averaged over facet i's
        observation points x_iq; zero on near pairs and the diagonal."""
        from scipy.spatial.distance import cdist
        s = self.interfaces
        n = s.normals
        charge_points, charge_weights = self._charge_rule
        points, weights = self._observation
        points = points.reshape(s.n_facets, len(weights), 3)
        out = np.empty((s.n_facets, s.n_facets), dtype=np.float32)
        block = max(1, DENSE_BLOCK_PAIRS // s.n_facets)
        for i in range(0, s.n_facets, block):
            rows = slice(i, i + block)
            total = np.zeros((len(n[rows]), s.n_facets))
            for c, w_c in enumerate(charge_weights):
                y = charge_points[:, c]
                n_dot_y = np.einsum("ik,jk->ij", n[rows], y)                        # n_i·y_jc
                for q, w_q in enumerate(weights):
                    # cdist and einsum, not BLAS: a rank-3 product threads badly on busy cores
                    # (8-13 s instead of 3 s for the 15k-facet head under load)
                    x = points[rows, q]
                    d3 = cdist(x, y, "sqeuclidean")
                    np.maximum(d3, 1e-20, out=d3)         # 1e-20: coincident points (self), zeroed below
                    d3 *= np.sqrt(d3)                                                # |x_iq − y_jc|³
                    normal = np.einsum("ik,ik->i", n[rows], x)[:, None] - n_dot_y    # n_i·(x_iq − y_jc)
                    normal *= w_q * w_c
                    normal /= d3
                    total += normal
            total *= s.areas / (4 * np.pi)
            out[rows] = total
        near = self.near_exact.tocoo()
        out[near.row, near.col] = 0.0
        np.fill_diagonal(out, 0.0)
        return out

    # --- near field: exact integrals (on the backend) ------------------------------------
    @functools.cached_property
    def _facets(self) -> types.SimpleNamespace:
        """The facets on the backend: corners (K, 3, 3), centroids, sizes, areas, normals, the far
        field's charge points (K, C, 3), the closed-form geometry (integrals.facet_geometry) and the
        6-point rule's points (K, 6, 3) and weights × area (K, 6)."""
        s, be = self.interfaces, self.be
        corners = be.asarray(s.corners)
        rule_points, weights = self._rule_on_facets(INTERMEDIATE_POINTS)
        return types.SimpleNamespace(
            corners=corners, centroids=be.asarray(s.centroids), sizes=be.asarray(s.sizes),
            areas=be.asarray(s.areas), normals=be.asarray(s.normals),
            charge_points=be.asarray(self._charge_rule[0]),
            geometry=integrals.facet_geometry(be.xp, corners),
            rule_points=be.asarray(rule_points),
            rule_weights=be.asarray(weights * s.areas[:, None]))

    def _geometry_of(self, facets):
        """Rows of the facets' precomputed geometry (normals, tangents, edge normals), backend arrays."""
        return tuple(g[facets] for g in self._facets.geometry)

    def _near_pairs(self, points, exclude_self: bool):
        """(point, facet) index pairs closer than intermediate_factor facet sizes, in blocks."""
        from scipy.spatial import cKDTree
        s = self.interfaces
        if self._tree is None:
            self._tree = cKDTree(s.centroids)
        reach = self.intermediate_factor * s.sizes
        for start in range(0, len(points), POINTS_PER_BLOCK):
            block = cKDTree(points[start:start + POINTS_PER_BLOCK])
            pairs = block.sparse_distance_matrix(self._tree, reach.max(), output_type="ndarray")
            p, f = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
            keep = pairs["v"] < reach[f]
            if exclude_self:
                keep &= p + start != f
            if keep.any():
                yield p[keep] + start, f[keep]

    def _facet_integral(self, targets, f, kind: str):
        """∫_Tf (r − r')/|r − r'|³ dS' ((P, 3), kind "field") or ∫_Tf dS'/|r − r'| ((P,),
        "potential") at ``targets`` (P, 3) for facets ``f`` (P,), backend arrays in and out:
        exact (closed form) within near_factor sizes of the centroid, the 6-point rule beyond."""
        xp, g = self.be.xp, self._facets
        exact = xp.linalg.norm(targets - g.centroids[f], axis=1) < self.near_factor * g.sizes[f]
        out = xp.empty((len(f), 3) if kind == "field" else len(f))
        if exact.any():
            integral = integrals.field if kind == "field" else integrals.potential
            out[exact] = integral(xp, targets[exact], g.corners[f[exact]], self._geometry_of(f[exact]))
        rest = ~exact
        if rest.any():
            d = targets[rest, None] - g.rule_points[f[rest]]                             # (R, 6, 3)
            r2 = xp.einsum("pqd,pqd->pq", d, d)
            w = g.rule_weights[f[rest]]
            out[rest] = (xp.einsum("pq,pqd->pd", w / (r2 * xp.sqrt(r2)), d) if kind == "field"
                         else (w / xp.sqrt(r2)).sum(axis=1))
        return out

    def _near_correction(self, points, p, f, kind: str) -> np.ndarray:
        """Accurate (exact or 6-point) minus point-charge contribution per unit density for pairs
        (p, f) of ``points`` (backend array) and facets; p, f numpy; the result numpy."""
        be, g = self.be, self._facets
        p, f = be.asarray(p), be.asarray(f)
        targets = points[p]
        accurate = self._facet_integral(targets, f, kind)
        point = self._point_charge_sum(be.xp, g.charge_points, g.areas, targets, f, kind)
        return be.to_numpy((accurate - point) / (4 * np.pi))

    def _pair_rules(self, p, f):
        """How each pair (p, f) is integrated: yields (pair indices, side, barycentric points
        (Q, 3), weights (Q,)). Side "observation": facet f's field averaged over p by the near
        rule (with ``near_rule`` 1: its value at p's centroid, plain collocation). Side "source",
        for facets sharing a vertex or an edge: the same average by the exchange of the two
        integrals, the flux through p of f's field, −∫_Tf sign(h_p) β_p dS'/A_p with β_p the
        solid angle p subtends, by the 6-point rule on f graded towards the shared corners
        (``adjacent_level``): p's average of f's field has a logarithmic singularity at the
        shared corners that the near rule misses, the solid angle is bounded."""
        s = self.interfaces
        shared = (s.triangles[f][:, :, None] == s.triangles[p][:, None, :]).any(axis=2)    # (P, 3) corners of f
        pattern = shared @ np.array([1, 2, 4]) if self.near_rule > 1 else np.zeros(len(p), dtype=int)
        for key in np.unique(pattern):
            pairs = np.flatnonzero(pattern == key)
            if key == 0:
                yield (pairs, "observation", *TRIANGLE_RULES[self.near_rule])
            else:
                corners = tuple(int(c) for c in np.flatnonzero(np.array([1, 2, 4]) & key))
                yield (pairs, "source", *graded_rule(6, self.options.adjacent_level, corners))

    def _observed_normal_field(self, p, f) -> np.ndarray:
        """n_p · (facet f's field per unit density averaged over facet p), (P,), by the pairs'
        rules from _pair_rules; p, f and the result numpy, the integrals on the backend."""
        be, g = self.be, self._facets
        xp = be.xp
        out = np.empty(len(p))
        for pairs, side, bary, weights in self._pair_rules(p, f):
            q = len(weights)
            bary, weights = be.asarray(bary), be.asarray(weights)
            step = max(1, CHUNK_PAIRS // q)
            for start in range(0, len(pairs), step):
                sel = pairs[start:start + step]
                ps, fs = be.asarray(p[sel]), be.asarray(f[sel])
                if side == "observation":
                    points = xp.einsum("qj,pjd->pqd", bary, g.corners[ps]).reshape(-1, 3)
                    field = self._facet_integral(points, xp.repeat(fs, q), "field").reshape(len(sel), q, 3)
                    normal = xp.einsum("q,pqd,pd->p", weights, field, g.normals[ps])
                else:
                    points = xp.einsum("qj,pjd->pqd", bary, g.corners[fs]).reshape(-1, 3)
                    rows = xp.repeat(ps, q)
                    field = integrals.field(xp, points, g.corners[rows], self._geometry_of(rows))
                    flux = xp.einsum("pd,pd->p", field, g.normals[rows]).reshape(len(sel), q) @ weights
                    normal = -flux * g.areas[fs] / g.areas[ps]
                out[sel] = be.to_numpy(normal)
        return out

    def _point_charge_rows(self, p, f) -> np.ndarray:
        """What the far field puts in entry (p, f): facet f's point charges per unit density,
        their normal field averaged over p's observation points, (P,)."""
        s = self.interfaces
        points, weights = self._observation
        points = points.reshape(s.n_facets, len(weights), 3)
        charge_points = self._charge_rule[0]
        out = np.zeros(len(p))
        for q, w in enumerate(weights):
            field = self._point_charge_sum(np, charge_points, s.areas, points[p, q], f, "field")
            out += w * np.einsum("pi,pi->p", field, s.normals[p])
        return out / (4 * np.pi)

    @functools.cached_property
    def _near_matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        s = self.interfaces
        rows, cols, corrections, exact, inner = [], [], [], [], []
        for p, f in self._near_pairs(s.centroids, exclude_self=True):
            normal_exact = self._observed_normal_field(p, f) / (4 * np.pi)
            rows.append(p)
            cols.append(f)
            corrections.append(normal_exact - self._point_charge_rows(p, f))
            exact.append(normal_exact)
            inner.append(np.linalg.norm(s.centroids[p] - s.centroids[f], axis=1) < self.near_factor * s.sizes[f])
        shape = (s.n_facets, s.n_facets)
        if not rows:
            return sp.csr_matrix(shape), sp.csr_matrix(shape), sp.csr_matrix(shape)
        index = (np.concatenate(rows), np.concatenate(cols))
        inner = np.concatenate(inner)
        exact = np.concatenate(exact)
        return (sp.csr_matrix((np.concatenate(corrections), index), shape=shape),
                sp.csr_matrix((exact, index), shape=shape),
                sp.csr_matrix((exact[inner], (index[0][inner], index[1][inner])), shape=shape))

    @property
    def near_matrix(self) -> sp.csr_matrix:
        """Sparse (K, K) near-field correction (exact minus point charge) of n_i·E at centroid i
        per unit density on facet j. The self term is zero: the principal value of a flat
        facet's own normal field."""
        return self._near_matrices[0]

    @property
    def near_exact(self) -> sp.csr_matrix:
        """The accurately integrated part of the collocation operator itself, same pattern as
        ``near_matrix`` (the rest is the point-charge far field)."""
        return self._near_matrices[1]

    @property
    def near_inner(self) -> sp.csr_matrix:
        """The pairs of ``near_exact`` within near_factor sizes (used to build the preconditioner)."""
        return self._near_matrices[2]

    def prepare(self):
        """Build the collocation operator's matrices now rather than on first use."""
        return self._dense_far if self.far_field == "dense" else self.near_matrix

    # --- public evaluations ------------------------------------------------------------
    def normal_field(self, density: np.ndarray) -> np.ndarray:
        """n·E on every facet (principal value), averaged over its observation points (the near
        rule's; near_rule 1: at the centroid), (K,) V/m, for densities (K,) V/m."""
        if self.far_field == "dense":
            return self._dense_far @ density.astype(np.float32) + self.near_exact @ density
        if self.far_field == "direct":
            return self._direct_normal_field(density)
        far = self._far(self._observation[0], density, "field")
        return self._row_average(far) + self.near_matrix @ density

    @functools.cached_property
    def _direct_arrays(self):
        """Charge points (K·C, 3), observation points, each charge's area × weight/(4π) (K, C)
        and the near-field correction on the backend."""
        s, be = self.interfaces, self.be
        charge_points, weights = self._charge_rule
        return (be.asarray(charge_points.reshape(-1, 3)), be.asarray(self._observation[0]),
                be.asarray(s.areas[:, None] * weights / (4 * np.pi)),
                be.sparse.csr_matrix(self.near_matrix) if be.on_device else self.near_matrix)

    def _direct_normal_field(self, density):
        """The operator's n·E rows with the far field summed directly on the backend: the whole
        collocation product runs there; numpy in and out (for scipy's GMRES)."""
        charge_points, points, weights, near = self._direct_arrays
        rho = self.be.asarray(density)
        far = direct_sums(charge_points, (rho[:, None] * weights).ravel(), points, "field", self.be)
        return self.be.to_numpy(self._row_average(far, self.be.xp) + near @ rho)

    def field(self, points, density: np.ndarray) -> np.ndarray:
        """E (P, 3) in V/m of the charges at ``points`` (P, 3) m (off the facets)."""
        return self._evaluate(points, density, "field")

    def potential(self, points, density: np.ndarray) -> np.ndarray:
        """Potential φ (P,) in V of the charges at ``points`` (P, 3) m (on facets too)."""
        return self._evaluate(points, density, "potential")

    def _evaluate(self, points, density, kind):
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 3 or not np.isfinite(points).all():
            raise TmsFieldError(f"points must be finite with shape (P, 3), got shape {points.shape}")
        out = self._far(points, density, kind)
        on_backend = self.be.asarray(points)
        for p, f in self._near_pairs(points, exclude_self=False):
            corr = self._near_correction(on_backend, p, f, kind)
            weight = density[f] if kind == "potential" else density[f, None]
            np.add.at(out, p, weight * corr)
        return out


def _fmm(sources, charges, targets, kind: str, eps: float):
    """Σ q/r (kind "potential") or −∇Σ q/r ("field") by fmm3dpy; at the sources (self
    excluded) when ``targets`` is None."""
    level = 1 if kind == "potential" else 2
    args = {"eps": eps, "sources": np.ascontiguousarray(sources.T), "charges": charges}
    if targets is None:
        out = lfmm3d(**args, pg=level)
        pot, grad = out.pot, out.grad
    else:
        out = lfmm3d(**args, targets=np.ascontiguousarray(targets.T), pgt=level)
        pot, grad = out.pottarg, out.gradtarg
    scale = 1.0 / kernel_scale()
    return scale * np.asarray(pot) if kind == "potential" else -scale * np.asarray(grad).T


def direct_sums(sources, charges, points, kind: str, backend="cpu"):
    """Σ q/r (kind "potential", (P,)) or Σ q (r − c)/r³ ("field", (P, 3)) of point ``charges`` (S,)
    at ``sources`` (S, 3), at ``points`` (P, 3), summed directly on ``backend`` (arrays of it are
    returned); coincident pairs (a point with itself) skipped."""
    be = get_backend(backend)
    xp = be.xp
    q = be.asarray(charges, dtype=xp.float64)
    if kind == "potential":
        return inverse_power_sums(points, sources, {1: q[:, None]}, be)[1][:, 0]
    c = be.asarray(sources, dtype=xp.float64)
    sums = inverse_power_sums(points, c, {3: xp.concatenate([q[:, None], q[:, None] * c], axis=1)}, be)[3]
    return be.asarray(points, dtype=xp.float64) * sums[:, :1] - sums[:, 1:]
