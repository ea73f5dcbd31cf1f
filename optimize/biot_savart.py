"""Magnetic field of a current dipole in a conductor: the dipole plus the volume currents.

A current dipole p at r0 in a piecewise-constant (or tensor) conductor drives the volume
current J_v = −σ∇V. Outside and inside the head its vector potential and flux density are

    A(r) = μ0/4π [ p/|r−r0| + ∫ J_v(r')/|r−r'| dV' ],     B = ∇×A
         = μ0/4π [ p×(r−r0)/|r−r0|³ + ∫ J_v(r')×(r−r')/|r−r'|³ dV' ].

The volume integral is a quadrature over the tetrahedra (J_v per element is constant for P1,
linear for P2; the rule is exact for J_v, the kernel is smooth because the coil stays outside
the scalp) and is summed by the FMM (fmm3dpy) as the Laplace potential of three charge
vectors per direction; B = ∇×A from its gradient. Shapes: K directions, N points.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.backend import get_backend
from ..core.pairwise import cross, inverse_power_sums
from ..core.units import MU0_OVER_4PI
from ..solver.fem.elements import CENTROID, DEGREE2, Quadrature

#: fmm3dpy precision for the reciprocal fields: E·d at the target moved by ~1e-5 relative
#: between eps 1e-3 and 1e-6 on the 12 mm sphere (the Biot–Savart quadrature error is ~1e-3);
#: 1e-4 leaves a margin (eps 1e-3 was no faster and used more memory in fmm3dpy 2.1.0)
FMM_EPS = 1e-4
#: densities per fmm3dpy call: its memory grows with nd (measured, 282k sources + 35k targets,
#: eps 1e-4: nd 3 → 0.9 GB in 4.3 s, nd 9 → 2.6 GB in 8.8 s), so each direction gets its own call
FMM_DENSITIES = 3


#: Biot–Savart quadrature rules by name
QUADRATURES = {"centroid": CENTROID, "degree2": DEGREE2}


def _subdivided(rule: Quadrature, levels: int) -> Quadrature:
    """``rule`` applied on the 8**levels sub-tetrahedra of a regular (Bey) refinement."""
    if levels == 0:
        return rule
    corners = np.eye(4)
    mids = {(i, j): 0.5 * (corners[i] + corners[j]) for i in range(4) for j in range(i + 1, 4)}
    m = lambda i, j: mids[(min(i, j), max(i, j))]
    children = [np.array([corners[0], m(0, 1), m(0, 2), m(0, 3)]),
                np.array([m(0, 1), corners[1], m(1, 2), m(1, 3)]),
                np.array([m(0, 2), m(1, 2), corners[2], m(2, 3)]),
                np.array([m(0, 3), m(1, 3), m(2, 3), corners[3]]),
                np.array([m(0, 1), m(0, 2), m(0, 3), m(1, 3)]), np.array([m(0, 1), m(0, 2), m(1, 2), m(1, 3)]),
                np.array([m(0, 2), m(0, 3), m(1, 3), m(2, 3)]), np.array([m(0, 2), m(1, 2), m(1, 3), m(2, 3)])]
    points = np.concatenate([rule.points @ c for c in children])
    weights = np.concatenate([rule.weights / 8.0] * 8)
    return _subdivided(Quadrature(points, weights), levels - 1)


@dataclasses.dataclass(frozen=True, eq=False)
class VolumeCurrents:
    """Quadrature of the volume currents of K reciprocal solutions.

    points : (Q, 3) m; strengths : (K, Q, 3) A·m (J_v × weight × volume);
    dipole_position : (3,) m; dipole_moments : (K, 3) A·m (the unit source dipoles).
    """
    points: np.ndarray
    strengths: np.ndarray
    dipole_position: np.ndarray
    dipole_moments: np.ndarray

    @classmethod
    def from_solution(cls, solver, potentials, position, moments, *, rule: Quadrature = DEGREE2,
                      near_surface_levels: int = 1, near_factor: float = 1.0) -> VolumeCurrents:
        """From potentials (K, n_dofs) V, solved by the FEMSolver ``solver``
        (:meth:`~tmsfield.solver.fem.solver.FEMSolver.solve_load`), of the dipoles ``moments``
        (K, 3) at ``position``; the currents are ``solver.current_density`` at the quadrature points.

        Tetrahedra closer to the outer surface than ``near_factor`` × their size use ``rule``
        on 8**``near_surface_levels`` sub-tetrahedra: the coil is only a few mm above them.
        """
        head = solver.head
        vols = head.volumes
        near = _near_surface(head, near_factor) if near_surface_levels else np.zeros(head.n_tets, bool)
        pts, strengths = [], []
        for sel, r in ((~near, rule), (near, _subdivided(rule, near_surface_levels))):
            idx = np.flatnonzero(sel)
            if not len(idx):
                continue
            corners = head.nodes[head.tets[idx]]                                   # (m, 4, 3)
            for lam, w in zip(r.points, r.weights):
                pts.append(lam @ corners)
                cur = []
                for phi in potentials:
                    j = solver.current_density(phi, lam, idx)
                    cur.append(j * (w * vols[idx])[:, None])
                strengths.append(np.stack(cur))
        return cls(np.concatenate(pts), np.concatenate(strengths, axis=1), np.asarray(position, float),
                   np.atleast_2d(np.asarray(moments, float)))

    @property
    def n_directions(self) -> int:
        return len(self.dipole_moments)

    def fields(self, points, *, want: str = "B", eps: float = FMM_EPS, backend="cpu") -> dict:
        """{"A": (K, N, 3) T·m per A·m, "B": (K, N, 3) T per A·m} at ``points`` (N, 3) m
        (``want`` "A", "B" or "AB"), dipole term included: by the FMM (fmm3dpy, precision ``eps``)
        or, when ``backend`` is a GPU, by direct sums there (:meth:`fields_direct`)."""
        if get_backend(backend).name == "gpu":
            return self.fields_direct(points, want=want, backend=backend)
        from ..core.fmm import kernel_scale, lfmm3d
        points = np.atleast_2d(np.asarray(points, float))
        k, n = self.n_directions, len(points)
        charges = np.ascontiguousarray(self.strengths.transpose(0, 2, 1).reshape(3 * k, -1))
        pgt = 2 if "B" in want else 1
        pot, grad = np.zeros((3 * k, n)), np.zeros((3 * k, 3, n)) if pgt == 2 else None
        sources, targets = np.ascontiguousarray(self.points.T), np.ascontiguousarray(points.T)
        for s in range(0, 3 * k, FMM_DENSITIES):           # one direction per call bounds fmm3dpy's memory
            out = lfmm3d(eps=eps, sources=sources, charges=np.ascontiguousarray(charges[s:s + FMM_DENSITIES]),
                                 targets=targets, pgt=pgt, nd=min(FMM_DENSITIES, 3 * k - s))
            pot[s:s + FMM_DENSITIES] = np.asarray(out.pottarg).reshape(-1, n)
            if pgt == 2:
                grad[s:s + FMM_DENSITIES] = np.asarray(out.gradtarg).reshape(-1, 3, n)
        scale = MU0_OVER_4PI / kernel_scale()
        result = {}
        d = points - self.dipole_position
        dist = np.linalg.norm(d, axis=1)[:, None]
        if "A" in want:
            pot = pot.reshape(k, 3, n).transpose(0, 2, 1) * scale
            result["A"] = pot + MU0_OVER_4PI * self.dipole_moments[:, None, :] / dist[None]
        if "B" in want:
            g = grad.reshape(k, 3, 3, n)                                       # [k, comp, ∂_j, n]
            curl = np.stack([g[:, 2, 1] - g[:, 1, 2], g[:, 0, 2] - g[:, 2, 0], g[:, 1, 0] - g[:, 0, 1]], axis=-1)
            primary = np.cross(self.dipole_moments[:, None, :], d[None]) / dist[None] ** 3
            result["B"] = curl * scale + MU0_OVER_4PI * primary
        return result

    def fields_direct(self, points, *, want: str = "B", backend="cpu") -> dict:
        """As :meth:`fields` by direct sums over all (point, quadrature point) pairs on
        ``backend`` (core/pairwise.py; numpy out): A = Σ s/|r − q|, B = Σ s × (r − q)/|r − q|³ =
        U × r − V with U = Σ s/|r − q|³, V = Σ (s × q)/|r − q|³."""
        be = get_backend(backend)
        xp = be.xp
        points = np.atleast_2d(np.asarray(points, float))
        k, n = self.n_directions, len(points)
        s = self.strengths.transpose(1, 0, 2)                                       # (Q, K, 3)
        weights = {}
        if "A" in want:
            weights[1] = s.reshape(len(s), -1)
        if "B" in want:
            weights[3] = np.hstack([s.reshape(len(s), -1), np.cross(s, self.points[:, None]).reshape(len(s), -1)])
        sums = inverse_power_sums(points, self.points, weights, be)
        d = points - self.dipole_position
        dist = np.linalg.norm(d, axis=1)[:, None]
        result = {}
        if "A" in want:
            A = be.to_numpy(sums[1]).reshape(n, k, 3).transpose(1, 0, 2)
            result["A"] = MU0_OVER_4PI * (A + self.dipole_moments[:, None] / dist[None])
        if "B" in want:
            U, V = sums[3][:, :3 * k].reshape(n * k, 3), sums[3][:, 3 * k:].reshape(n * k, 3)
            r = xp.repeat(be.asarray(points), k, axis=0)
            B = be.to_numpy(cross(xp, U, r) - V).reshape(n, k, 3).transpose(1, 0, 2)
            result["B"] = MU0_OVER_4PI * (B + np.cross(self.dipole_moments[:, None, :], d[None]) / dist[None] ** 3)
        return result


def _near_surface(head, factor: float) -> np.ndarray:
    """Tetrahedra (M,) bool whose centroid is within ``factor`` × (volume^(1/3) · 2) of the
    outer surface's vertices (a cheap, conservative proxy for the distance to the surface)."""
    from scipy.spatial import cKDTree
    surface_nodes = np.unique(head.outer_surface())
    dist, _ = cKDTree(head.nodes[surface_nodes]).query(head.centroids)
    size = 2.0 * np.cbrt(head.volumes)
    return dist < factor * size + size
