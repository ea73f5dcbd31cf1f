"""Reciprocity: E·d at one target for any coil placement, from one FEM solve per direction.

Derivation (Heller & van Hulsteyn 1992; Gomez et al. 2021). Let a current dipole p sit at
r0 and drive the volume current J_v = −σ∇V, so J = p δ(r − r0) + J_v is divergence-free
with no flux through the head surface. The coil field E = −(dI/dt) a − ∇φ (a: the coil's
vector potential per ampere) has σE divergence-free with no normal flux, hence
∫ J_v·E = ∫ V ∇·(σE) = 0 and ∫ J·∇φ = 0, leaving

    p·E(r0) = ∫ J·E = −(dI/dt) ∫ J·a = −(dI/dt) [ Σ_k m_k·B_p(r_k) + Σ_s I_s ∫_s A_p·dl ],

with B_p, A_p the flux density and vector potential of J per unit p (dipole term plus volume
currents, :mod:`.biot_savart`), m_k the coil's dipole moments and I_s its segment currents
per ampere; the last step is the mutual-inductance symmetry ∫ J·a_m = m·B_J(r_m) for a
dipole m, ∫ J·a_s = ∫_s A_J·dl for a wire. In the FEM the same identity holds discretely
(:mod:`.dipole_source`): the reciprocal value equals the brute-force FEM field −∇φ_h(r0) −
∂A/∂t(r0) in r0's element, up to the interpolation of ∂A/∂t in the coil solve and the
quadrature of the Biot–Savart integrals.
"""
from __future__ import annotations

import logging

import numpy as np

from ..core.errors import TmsFieldError
from ..core.progress import progress, timed
from .adm import coil_elements
from .biot_savart import FMM_EPS, QUADRATURES, VolumeCurrents
from .dipole_source import locate_target, unit_direction

log = logging.getLogger("tmsfield")


def _as_matrices(poses) -> np.ndarray:
    """(P, 4, 4) pose matrices from a CoilPose, a sequence of them, or arrays of 4×4 (m)."""
    if isinstance(poses, np.ndarray):
        return poses.reshape(-1, 4, 4).astype(float)
    if hasattr(poses, "matrix"):
        poses = [poses]
    return np.stack([np.asarray(getattr(p, "matrix", p), float) for p in poses])


class ReciprocityField:
    """The reciprocal field of unit current dipoles at one target (one FEM solve each).

    Parameters
    ----------
    solver : a FEMSolver (P1 or P2) on the head; its AMG hierarchy is reused.
    target : (3,) m, inside the brain (not in bone or scalp).
    directions : None → the three axes x, y, z (|E| and the full vector), or (3,) / (K, 3)
        field directions (normalised here).
    quadrature : "centroid" (1 point per tetrahedron) or "degree2" (4 points) for the
        Biot–Savart volume integral.
    near_surface_levels : Biot–Savart quadrature refinement next to the scalp (see
        :meth:`VolumeCurrents.from_solution`).

    Attributes: ``directions`` (K, 3), ``element``/``bary`` of the target, ``currents``
    (:class:`VolumeCurrents`), ``timings`` (s), ``iterations`` (CG per direction).
    """

    def __init__(self, solver, target, directions=None, *, quadrature: str = "degree2",
                 near_surface_levels: int = 0, verbose: bool = False, allow_tags=None):
        if getattr(solver, "method", None) != "fem":
            raise TmsFieldError("reciprocity needs a FEMSolver (tmsfield.solver.fem.FEMSolver)")
        self.solver, self.head = solver, solver.head
        self.element, self.bary = locate_target(self.head, target, allow_tags=allow_tags)
        self.target = np.asarray(target, float).reshape(3)
        if directions is None:
            self.directions = np.eye(3)
        else:
            d = np.atleast_2d(np.asarray(directions, float))
            if d.ndim != 2 or d.shape[1] != 3:
                raise TmsFieldError(f"directions must be (3,) or (K, 3), got shape {d.shape}")
            self.directions = np.stack([unit_direction(v) for v in d])
        self.timings, self.iterations = {}, []
        with timed(self.timings, "reciprocal solves"):
            rhs = solver.dipole_load(self.element, self.bary, self.directions)
            potentials = []
            for k in progress(range(len(self.directions)), desc="reciprocal solves", verbose=verbose):
                phi, info = solver.solve_load(rhs[:, k])
                potentials.append(phi)
                self.iterations.append(info.iterations)
        self.potentials = np.stack(potentials)
        with timed(self.timings, "volume currents"):
            self.currents = VolumeCurrents.from_solution(solver, self.potentials, self.target,
                                                         self.directions, rule=QUADRATURES[quadrature],
                                                         near_surface_levels=near_surface_levels)
        log.info("reciprocity: %d solves (%s CG iterations), %d quadrature points, %.2f s",
                 len(self.directions), self.iterations, len(self.currents.points), sum(self.timings.values()))

    @property
    def n_directions(self) -> int:
        return len(self.directions)

    def fields(self, points, *, want: str = "AB", eps: float = FMM_EPS) -> dict:
        """Reciprocal {"A", "B"} (K, N, 3) per unit dipole at ``points`` (N, 3) m."""
        return self.currents.fields(points, want=want, eps=eps, backend=self.solver.be)

    def evaluate(self, coil, poses, *, didt=1e6, eps: float = FMM_EPS) -> np.ndarray:
        """E·d (V/m) at the target, (P, K), for ``coil`` at each of ``poses`` (CoilPose or
        4×4 matrices in m) with current slope ``didt`` (A/s): the coil's own elements, no
        resampling (one FMM call for all poses)."""
        mats = _as_matrices(poses)
        pos, vec, kind = coil_elements(coil, didt)
        world = np.einsum("pij,ej->pei", mats[:, :3, :3], pos) + mats[:, None, :3, 3]
        wvec = np.einsum("pij,ej->pei", mats[:, :3, :3], vec)
        want = ("B" if (kind == 0).any() else "") + ("A" if (kind == 1).any() else "")
        f = self.fields(world.reshape(-1, 3), want=want, eps=eps)
        total = np.zeros((len(mats), self.n_directions))
        for k, label in ((0, "B"), (1, "A")):
            sel = kind == k
            if sel.any():
                field = f[label].reshape(self.n_directions, len(mats), len(pos), 3)[:, :, sel]
                total += np.einsum("kpei,pei->pk", field, wvec[:, sel])
        return -total
