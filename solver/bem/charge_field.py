"""Field and potential of piecewise-constant charges on the interface facets.

A facet j with charge density ρ_j (in V/m: charge per area over ε0) contributes
E(r) = ρ_j/(4π) ∫_Tj (r − r')/|r − r'|³ dS' and φ(r) = ρ_j/(4π) ∫_Tj dS'/|r − r'|. Far from a
facet its charge acts as a point charge at the centroid; (point, facet) pairs closer than
``near_factor`` facet sizes get the exact closed-form integral instead
(solver/bem/integrals.py), and pairs between ``near_factor`` and ``intermediate_factor`` sizes
the facet's 6-point rule (six point charges). A point charge errs by ~(size/distance)² of
a facet's field, the 6-point rule by ~(size/distance)⁵: with point charges from 2 sizes on, a
neighbouring surface a few facet sizes away is summed with an error that does not shrink
when the facets do (the BEM's error on nested spheres rose under refinement).
In the collocation operator a near pair's entry is facet j's field averaged over the
observation facet i (``near_rule`` points on i); for facets sharing a vertex or an edge, whose
field is log-singular on i there, the same average is the flux of j's field through i,
computed as i's solid angle seen from points on j (a bounded integrand; see ``_pair_rules``).
At the collocation points the near part is a precomputed sparse matrix and the far part either
a precomputed dense matrix (up to ``dense_max_facets`` facets: one BLAS product per iteration)
or an FMM (fmm3dpy); at other points, blocked direct sums or the FMM, with the near pairs
integrated on the fly. The settings and the
measurements behind their defaults are the fields of :class:`~tmsfield.solver.options.BEMOptions`.
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from ...core.backend import get_backend
from ...core.errors import TmsFieldError
from ...core.fmm import kernel_scale, lfmm3d
from ...core.pairwise import inverse_power_sums
from ..options import BEMOptions
from . import integrals
from .quadrature import TRIANGLE_RULES, graded_rule

#: the rule summing a facet's field between near_factor and intermediate_factor sizes (degree 4)
INTERMEDIATE_RULE = TRIANGLE_RULES[6]

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
    ``options.dense_max_facets`` facets, then fmm). The near field at the centroids is built
    once (on the CPU) and reused for every right-hand side.
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

    # --- far field: point charges at the centroids ------------------------------------
    def _point_charges(self, density):
        s = self.interfaces
        return s.centroids, density * s.areas / (4 * np.pi)

    def _far(self, targets, density, kind: str):
        """Point-charge sums at ``targets`` (None: at the centroids, self excluded), numpy."""
        sources, charges = self._point_charges(density)
        direct = self.far_field == "direct" or (targets is not None and
                                                len(targets) * len(sources) <= self.options.fmm_min_pairs)
        if not direct:
            return _fmm(sources, charges, targets, kind, self.eps)
        be = self.be if self.far_field == "direct" else get_backend("cpu")
        return be.to_numpy(direct_sums(sources, charges, sources if targets is None else targets, kind, be))

    @functools.cached_property
    def _dense_far(self) -> np.ndarray:
        """(K, K) float32: n_i·(c_i − c_j) A_j/(4π|c_i − c_j|³), the far field per unit density
        of facet j's point charge at centroid i; zero on near pairs and the diagonal."""
        from scipy.spatial.distance import cdist
        s = self.interfaces
        c, n = s.centroids, s.normals
        nc = np.einsum("ki,ki->k", n, c)
        weight = s.areas / (4 * np.pi)
        out = np.empty((len(c), len(c)), dtype=np.float32)
        block = max(1, DENSE_BLOCK_PAIRS // len(c))
        for i in range(0, len(c), block):
            rows = slice(i, i + block)
            # cdist and einsum, not BLAS: a rank-3 product threads badly on busy cores (8-13 s
            # instead of 3 s for the 15k-facet head under load); this is also faster idle
            d2 = cdist(c[rows], c, "sqeuclidean")
            normal = nc[rows, None] - np.einsum("ik,jk->ij", n[rows], c)      # n_i·(c_i − c_j)
            np.maximum(d2, 1e-20, out=d2)              # 1e-20: the diagonal, zeroed below
            out[rows] = normal * weight / (d2 * np.sqrt(d2))
        near = self.near_exact.tocoo()
        out[near.row, near.col] = 0.0
        np.fill_diagonal(out, 0.0)
        return out

    # --- near field: exact integrals ---------------------------------------------------
    @functools.cached_property
    def _geometry(self):
        return integrals.facet_geometry(np, self.interfaces.corners)

    def _geometry_of(self, facets):
        """Rows of the facets' precomputed geometry (normals, tangents, edge normals)."""
        return tuple(g[facets] for g in self._geometry)

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

    @functools.cached_property
    def _rule_sources(self) -> tuple[np.ndarray, np.ndarray]:
        """The 6-point rule's points (K, 6, 3) m on every facet and their weights × area (K, 6)."""
        s = self.interfaces
        bary, weights = INTERMEDIATE_RULE
        return np.einsum("qj,kjd->kqd", bary, s.corners), weights * s.areas[:, None]

    def _facet_integral(self, targets, f, kind: str) -> np.ndarray:
        """∫_Tf (r − r')/|r − r'|³ dS' ((P, 3), kind "field") or ∫_Tf dS'/|r − r'| ((P,),
        "potential") at ``targets`` (P, 3) for facets ``f`` (P,): exact (closed form) within
        near_factor sizes of the centroid, the 6-point rule beyond."""
        s = self.interfaces
        exact = np.linalg.norm(targets - s.centroids[f], axis=1) < self.near_factor * s.sizes[f]
        out = np.empty((len(f), 3) if kind == "field" else len(f))
        if exact.any():
            integral = integrals.field if kind == "field" else integrals.potential
            out[exact] = integral(np, targets[exact], s.corners[f[exact]], self._geometry_of(f[exact]))
        rest = ~exact
        if rest.any():
            sources, weights = self._rule_sources
            d = targets[rest, None] - sources[f[rest]]                                   # (R, 6, 3)
            r2 = np.einsum("pqd,pqd->pq", d, d)
            w = weights[f[rest]]
            out[rest] = (np.einsum("pq,pqd->pd", w / (r2 * np.sqrt(r2)), d) if kind == "field"
                         else (w / np.sqrt(r2)).sum(axis=1))
        return out

    def _near_correction(self, points, p, f, kind: str):
        """Accurate (exact or 6-point) minus point-charge contribution per unit density for pairs (p, f)."""
        s = self.interfaces
        d = points[p] - s.centroids[f]
        dist = np.linalg.norm(d, axis=1)
        accurate = self._facet_integral(points[p], f, kind)
        point = s.areas[f, None] * d / dist[:, None] ** 3 if kind == "field" else s.areas[f] / dist
        return (accurate - point) / (4 * np.pi)

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
        rules from _pair_rules."""
        s = self.interfaces
        out = np.empty(len(p))
        for pairs, side, bary, weights in self._pair_rules(p, f):
            step = max(1, CHUNK_PAIRS // len(weights))
            for start in range(0, len(pairs), step):
                sel = pairs[start:start + step]
                q = len(weights)
                if side == "observation":
                    points = np.einsum("qj,pjd->pqd", bary, s.corners[p[sel]]).reshape(-1, 3)
                    field = self._facet_integral(points, np.repeat(f[sel], q), "field").reshape(len(sel), q, 3)
                    out[sel] = np.einsum("q,pqd,pd->p", weights, field, s.normals[p[sel]])
                else:
                    points = np.einsum("qj,pjd->pqd", bary, s.corners[f[sel]]).reshape(-1, 3)
                    rows = np.repeat(p[sel], q)
                    field = integrals.field(np, points, s.corners[rows], self._geometry_of(rows))
                    flux = np.einsum("pd,pd->p", field, s.normals[rows]).reshape(len(sel), q) @ weights
                    out[sel] = -flux * s.areas[f[sel]] / s.areas[p[sel]]
        return out

    @functools.cached_property
    def _near_matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        s = self.interfaces
        rows, cols, corrections, exact, inner = [], [], [], [], []
        for p, f in self._near_pairs(s.centroids, exclude_self=True):
            normal_exact = self._observed_normal_field(p, f) / (4 * np.pi)
            d = s.centroids[p] - s.centroids[f]
            point = s.areas[f, None] * d / np.linalg.norm(d, axis=1)[:, None] ** 3
            rows.append(p)
            cols.append(f)
            corrections.append(normal_exact - np.einsum("pi,pi->p", point, s.normals[p]) / (4 * np.pi))
            exact.append(normal_exact)
            inner.append(np.linalg.norm(d, axis=1) < self.near_factor * s.sizes[f])
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
        """n·E at every facet centroid (principal value), (K,) V/m, for densities (K,) V/m."""
        if self.far_field == "dense":
            return self._dense_far @ density.astype(np.float32) + self.near_exact @ density
        if self.far_field == "direct":
            return self._direct_normal_field(density)
        far = self._far(None, density, "field")
        return np.einsum("ki,ki->k", far, self.interfaces.normals) + self.near_matrix @ density

    @functools.cached_property
    def _direct_arrays(self):
        """Centroids, normals, areas/(4π) and the near-field correction on the backend."""
        s, be = self.interfaces, self.be
        return (be.asarray(s.centroids), be.asarray(s.normals), be.asarray(s.areas / (4 * np.pi)),
                be.sparse.csr_matrix(self.near_matrix) if be.on_device else self.near_matrix)

    def _direct_normal_field(self, density):
        """n·E at the centroids with the far field summed directly on the backend: the whole
        collocation product runs there; numpy in and out (for scipy's GMRES)."""
        centroids, normals, weights, near = self._direct_arrays
        rho = self.be.asarray(density)
        far = direct_sums(centroids, rho * weights, centroids, "field", self.be)
        return self.be.to_numpy((far * normals).sum(axis=1) + near @ rho)

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
        for p, f in self._near_pairs(points, exclude_self=False):
            corr = self._near_correction(points, p, f, kind)
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
