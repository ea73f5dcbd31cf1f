"""Direct sums over all (target, source) pairs of 1/|r − s|^p, tiled, on any array backend.

Every direct sum in the package reduces to

    S_p(r_i) = Σ_j |r_i − s_j|^(−p) w_j        (w_j: a row of weights per source, p = 1 or 3),

e.g. a magnetic dipole's vector potential Σ m_j × (r − s_j)/|r − s_j|³ = U(r) × r − V(r) with
U = S_3[m], V = S_3[m × s]. Each tile forms the squared distances with one matrix product
(|r|² + |s|² − 2 r·s), takes the power in place, and contracts it with the weights in a second
matrix product, so a GPU runs it as two GEMMs and two elementwise passes per tile. The
expansion loses about ε|r|² absolutely in |r − s|²: 2e-18 m² at head scale, a relative 2e-12
for pairs 1 mm apart. Pairs closer than ``COINCIDENT`` (a point with itself) contribute zero.
"""
from __future__ import annotations

from .backend import get_backend

#: pairs per tile on the CPU (bounds the temporaries to ~100 MB) and on a GPU (~1.6 GB)
CPU_TILE_PAIRS = 1 << 22
DEVICE_TILE_PAIRS = 1 << 26
#: squared distance (m²) below which a pair counts as a point with itself: 1e-14 m² is
#: (0.1 µm)², far above the expansion's rounding and far below any mesh or coil spacing
COINCIDENT = 1e-14


def inverse_power_sums(targets, sources, weights: dict, backend="cpu"):
    """{p: S_p (T, c_p)} for targets (T, 3) and sources (S, 3) (m) and ``weights`` {p: (S, c_p)},
    p in (1, 3). Inputs are numpy or ``backend`` arrays; outputs are ``backend`` arrays."""
    be = get_backend(backend)
    xp = be.xp
    t, s = be.asarray(targets, dtype=xp.float64), be.asarray(sources, dtype=xp.float64)
    w = {p: be.asarray(v, dtype=xp.float64) for p, v in weights.items()}
    if not set(w) <= {1, 3}:
        raise ValueError(f"powers must be 1 or 3, got {sorted(w)}")
    out = {p: xp.zeros((len(t), v.shape[1])) for p, v in w.items()}
    if len(t) == 0 or len(s) == 0:
        return out
    source_norms = (s * s).sum(axis=1)
    rows = max(1, (DEVICE_TILE_PAIRS if be.name == "gpu" else CPU_TILE_PAIRS) // len(s))
    for i in range(0, len(t), rows):
        tile = t[i:i + rows]
        d2 = tile @ s.T
        d2 *= -2.0
        d2 += (tile * tile).sum(axis=1)[:, None]
        d2 += source_norms[None, :]
        inverse = xp.where(d2 > COINCIDENT, d2, xp.inf)       # coincident pairs → 1/∞ = 0
        xp.sqrt(inverse, out=inverse)
        xp.reciprocal(inverse, out=inverse)                    # 1/|r − s|
        if 1 in w:
            out[1][i:i + rows] = inverse @ w[1]
        if 3 in w:
            cube = inverse * inverse
            cube *= inverse
            out[3][i:i + rows] = cube @ w[3]
    return out


def cross(xp, a, b):
    """Row-wise a × b of (N, 3) arrays."""
    return xp.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)
