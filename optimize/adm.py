"""Auxiliary dipole method (ADM; Gomez, Dannhauer & Peterchev 2021, NeuroImage 228:117696).

By reciprocity (:mod:`.reciprocity`), E·d at the target for a coil placement is a sum over
the coil's elements paired with the reciprocal field F: magnetic dipoles m with B, current
elements c (wire segments at Gauss points, I·Δl) with A. Here the coil, in its own frame, is
resampled onto a polar grid — radii ρ_i (Gauss–Legendre nodes on [0, R]), angles
θ_j = 2πj/N (N odd), heights z_l (Gauss–Legendre nodes, or one height for a flat coil). The
field's *local polar components* F_loc = (F·e_ρ, F·e_θ, F_z) are interpolated: Lagrange in ρ
and z, trigonometric in θ (F_loc is smooth and periodic on each ring). An element at
(ρ_k, θ_k, z_k) with local components m_loc,k = (m·e_ρ(θ_k), m·e_θ(θ_k), m_z) then pairs as

    m·F(r_k) ≈ Σ_ijl w_i(ρ_k) t_j(θ_k) w_l(z_k) m_loc,k · F_loc(ρ_i, θ_j, z_l),

so the auxiliary moments M_ijl = Σ_k w_i t_j w_l m_loc,k are computed once per coil. Turning
the coil by α about its axis moves every element to θ_k + α with the same local components,
and trigonometric interpolation commutes with that shift, so for *every* α

    S(α) = Σ_ijl M_ijl · F_loc(ρ_i, θ_j + α, z_l) = Re[ĉ_0 + 2 Σ_{m≥1} ĉ_m e^{imα}],
    ĉ_m = (1/N) Σ_ilc F̂_ilc,m conj(M̂_ilc,m)          (F̂, M̂: DFT over j),

one circular cross-correlation per position: the field is needed only at the N·n_ρ·n_z
nodes, and any number of handle angles costs one small matrix product. The grid is
placed at each position with the position's base frame; angles count from its x' axis
towards y'. Accuracy is set by the node counts against the scale on which the field varies
at the coil (validation/results/reciprocity.md measures the convergence).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.errors import CoilError, TmsFieldError

#: Gauss–Legendre points per wire segment for its current elements
SEGMENT_GAUSS = 2
#: default node counts: radii, angles (odd), heights of a non-flat coil
DEFAULT_RADII, DEFAULT_ANGLES, DEFAULT_HEIGHTS = 17, 41, 3


def _gauss_nodes(lo: float, hi: float, n: int) -> np.ndarray:
    x = np.polynomial.legendre.leggauss(n)[0]
    return lo + 0.5 * (x + 1.0) * (hi - lo)


def lagrange_weights(x: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Lagrange basis at points x (P,) on ``nodes`` (n,): (P, n); ones for a single node."""
    x, nodes = np.asarray(x, float), np.asarray(nodes, float)
    w = np.ones((len(x), len(nodes)))
    for a in range(len(nodes)):
        for b in range(len(nodes)):
            if a != b:
                w[:, a] *= (x - nodes[b]) / (nodes[a] - nodes[b])
    return w


def trig_weights(theta: np.ndarray, n: int) -> np.ndarray:
    """Trigonometric interpolation weights (P, n) at angles ``theta`` on n (odd) equispaced
    nodes: the Dirichlet kernel sin(n x/2) / (n sin(x/2)), x = θ − 2πj/n."""
    x = np.asarray(theta, float)[:, None] - 2 * np.pi * np.arange(n)[None] / n
    den = n * np.sin(0.5 * x)
    small = np.abs(den) < 1e-12
    return np.where(small, np.cos(0.5 * n * x) / np.cos(0.5 * x), np.sin(0.5 * n * x) / np.where(small, 1.0, den))


@dataclasses.dataclass(frozen=True)
class PolarGrid:
    """Polar nodes in the coil frame: ``radii`` (n_ρ,) m, ``n_angles`` (odd) angles 2πj/N from
    +x' towards +y', ``heights`` (n_z,) z' in m; ``extent`` (m) the largest element radius
    the grid may interpolate to (default: the largest node radius)."""
    radii: tuple
    n_angles: int
    heights: tuple
    extent: float | None = None

    def __post_init__(self):
        if self.n_angles < 3 or self.n_angles % 2 == 0:
            raise TmsFieldError(f"the polar grid needs an odd number of angles >= 3, got {self.n_angles}")
        if len(self.radii) < 1 or min(self.radii) < 0 or len(self.heights) < 1:
            raise TmsFieldError("the polar grid needs non-negative radii and at least one height")

    @property
    def angles(self) -> np.ndarray:
        """Node angles (N,) in radians."""
        return 2 * np.pi * np.arange(self.n_angles) / self.n_angles

    @property
    def shape(self) -> tuple:
        """(n_radii, n_angles, n_heights)."""
        return (len(self.radii), self.n_angles, len(self.heights))

    @property
    def n_nodes(self) -> int:
        return int(np.prod(self.shape))

    def nodes(self) -> np.ndarray:
        """Node coordinates in the coil frame, (n_radii, n_angles, n_heights, 3) m."""
        r, t, h = np.meshgrid(np.asarray(self.radii), self.angles, np.asarray(self.heights), indexing="ij")
        return np.stack([r * np.cos(t), r * np.sin(t), h], axis=-1)

    def to_local(self, vectors: np.ndarray) -> np.ndarray:
        """Coil-frame vectors (…, n_radii, n_angles, n_heights, 3) → local (e_ρ, e_θ, e_z)."""
        c, s = np.cos(self.angles)[:, None], np.sin(self.angles)[:, None]
        x, y = vectors[..., 0], vectors[..., 1]
        return np.stack([c * x + s * y, -s * x + c * y, vectors[..., 2]], axis=-1)

    @classmethod
    def for_coil(cls, coil, *, n_radii: int = DEFAULT_RADII, n_angles: int = DEFAULT_ANGLES,
                 n_heights: int = DEFAULT_HEIGHTS) -> PolarGrid:
        """Gauss–Legendre radii on [0, max element radius] and heights on the coil's z' span
        (one height for a flat coil)."""
        pts = _elements(coil)[0]
        rho = np.hypot(pts[:, 0], pts[:, 1])
        z0, z1 = float(pts[:, 2].min()), float(pts[:, 2].max())
        heights = (z0,) if z1 - z0 < 1e-9 else tuple(_gauss_nodes(z0, z1, n_heights))
        reach = float(rho.max())
        return cls(tuple(_gauss_nodes(0.0, reach, n_radii)), int(n_angles), heights, reach)


def _elements(coil, n_gauss: int = SEGMENT_GAUSS):
    """All coil elements in the coil frame: positions (E, 3) m, vectors (E, 3), kind (E,) with
    0 = magnetic dipole (A·m² per A), 1 = current element (A·m per A), stimulator (E,)."""
    if coil.grids:
        raise CoilError(f"coil {coil.name!r} is (or holds) a sampled A-field grid: reciprocity needs the coil's "
                        "dipoles or wire segments; use its .ccd/.tcd version for the placement search")
    x, w = np.polynomial.legendre.leggauss(n_gauss)
    edge = coil.segment_ends - coil.segment_starts
    seg_pos = (coil.segment_starts[:, None] + 0.5 * (x + 1)[None, :, None] * edge[:, None]).reshape(-1, 3)
    seg_vec = (0.5 * w[None, :, None] * (coil.segment_weights[:, None] * edge)[:, None]).reshape(-1, 3)
    pos = np.vstack([coil.dipole_positions, seg_pos])
    vec = np.vstack([coil.dipole_moments, seg_vec])
    kind = np.r_[np.zeros(len(coil.dipole_positions), int), np.ones(len(seg_pos), int)]
    stim = np.r_[coil.dipole_stimulator, np.repeat(coil.segment_stimulator, n_gauss)]
    return pos, vec, kind, stim


def coil_elements(coil, didt=1.0):
    """Coil elements scaled by each stimulator's ``didt`` (A/s, scalar or one per stimulator):
    (positions (E, 3) m, vectors (E, 3), kind (E,) 0 = dipole/B, 1 = current element/A)."""
    pos, vec, kind, stim = _elements(coil)
    per_stim = np.atleast_1d(np.asarray(didt, float))
    if per_stim.size == 1:
        per_stim = np.full(coil.n_stimulators, per_stim[0])
    if len(per_stim) != coil.n_stimulators or not np.isfinite(per_stim).all():
        raise CoilError(f"coil {coil.name!r} has {coil.n_stimulators} stimulator(s); give one finite dI/dt each")
    return pos, vec * per_stim[stim][:, None], kind


@dataclasses.dataclass(frozen=True, eq=False)
class AuxiliaryCoil:
    """A coil resampled on a :class:`PolarGrid`: auxiliary moments in local polar components
    per element kind, ``moments[kind]`` (n_radii, n_angles, n_heights, 3) — kind "B"
    (magnetic dipoles, A·m² per unit dI/dt) or "A" (current elements, A·m)."""
    grid: PolarGrid
    moments: dict
    name: str = "coil"

    @classmethod
    def from_coil(cls, coil, grid: PolarGrid, *, didt=1.0) -> AuxiliaryCoil:
        """Resample ``coil`` (in its own frame) onto ``grid``."""
        pos, vec, kind = coil_elements(coil, didt)
        rho = np.hypot(pos[:, 0], pos[:, 1])
        theta = np.arctan2(pos[:, 1], pos[:, 0])
        reach = grid.extent if grid.extent is not None else max(grid.radii)
        if rho.max() > reach * (1 + 1e-9) + 1e-12:
            raise TmsFieldError(f"coil {coil.name!r} reaches {1e3 * rho.max():.1f} mm from its axis, beyond "
                                f"the polar grid ({1e3 * reach:.1f} mm)")
        wr = lagrange_weights(rho, grid.radii)
        wt = trig_weights(theta, grid.n_angles)
        wz = lagrange_weights(pos[:, 2], grid.heights)
        c, s = np.cos(theta), np.sin(theta)
        local = np.stack([c * vec[:, 0] + s * vec[:, 1], -s * vec[:, 0] + c * vec[:, 1], vec[:, 2]], axis=1)
        moments = {}
        for k, label in ((0, "B"), (1, "A")):
            sel = kind == k
            if sel.any():
                moments[label] = np.einsum("ki,kj,kl,kc->ijlc", wr[sel], wt[sel], wz[sel], local[sel], optimize=True)
        return cls(grid, moments, coil.name)

    def spectra(self) -> dict:
        """conj(rfft over angle)/N of the moments per kind, (n_radii, (N+1)//2, n_heights, 3)."""
        n = self.grid.n_angles
        return {k: np.conj(np.fft.rfft(m, axis=1)) / n for k, m in self.moments.items()}


def rotation_synthesis(angles: np.ndarray, n_angles: int) -> np.ndarray:
    """Matrix (n_out, (N+1)//2) mapping ĉ_m to S(α) = Re[ĉ_0 + 2 Σ_{m≥1} ĉ_m e^{imα}]."""
    m = np.arange(n_angles // 2 + 1)
    return np.where(m == 0, 1.0, 2.0)[None] * np.exp(1j * np.outer(np.asarray(angles, float), m))


def correlate(spectra: dict, fields: dict, synthesis: np.ndarray) -> np.ndarray:
    """Σ over nodes of auxiliary moments · field for every handle angle: (…, n_out).

    ``spectra`` from :meth:`AuxiliaryCoil.spectra`; ``fields[kind]`` the reciprocal field in
    local components (…, n_radii, n_angles, n_heights, 3) (leading axes e.g. positions,
    directions); ``synthesis`` from :func:`rotation_synthesis`."""
    total = 0
    for kind, spec in spectra.items():
        total = total + np.einsum("...imlc,imlc->...m", np.fft.rfft(fields[kind], axis=-3), spec)
    return (total @ synthesis.T).real
