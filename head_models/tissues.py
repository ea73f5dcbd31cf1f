"""SimNIBS tissue tags, names and default conductivities (S/m)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.errors import MeshError

#: tag -> (name, default isotropic conductivity in S/m), as in SimNIBS 4.
TISSUES: dict[int, tuple[str, float]] = {
    1: ("white matter", 0.126),
    2: ("grey matter", 0.275),
    3: ("CSF", 1.654),
    4: ("bone", 0.010),
    5: ("scalp", 0.465),
    6: ("eyes", 0.5),
    7: ("compact bone", 0.008),
    8: ("spongy bone", 0.025),
    9: ("blood", 0.6),
    10: ("muscle", 0.16),
}

#: SimNIBS tags surfaces as 1000 + the tag of the tissue inside them.
SURFACE_TAG_OFFSET = 1000

# Named tags and tag sets (SimNIBS numbering): use these wherever a tissue set is meant.
WHITE_MATTER, GREY_MATTER, CSF, BONE, SCALP = 1, 2, 3, 4, 5
COMPACT_BONE, SPONGY_BONE = 7, 8
#: the brain: white and grey matter
BRAIN_TAGS = (WHITE_MATTER, GREY_MATTER)
#: every bone tag: bone (4, single-compartment skull), compact and spongy bone
BONE_TAGS = (BONE, COMPACT_BONE, SPONGY_BONE)
SCALP_TAGS = (SCALP,)
#: tissues a stimulation target may not lie in: bone and scalp
NON_TARGET_TAGS = tuple(sorted(BONE_TAGS + SCALP_TAGS))


def tissue_name(tag: int) -> str:
    """Human-readable name of a volume (or 1000+tag surface) tag."""
    base = tag - SURFACE_TAG_OFFSET if tag > SURFACE_TAG_OFFSET else tag
    name = TISSUES.get(int(base), (f"tag {base}",))[0]
    return f"{name} surface" if tag > SURFACE_TAG_OFFSET else name


def conductivity_table(overrides: Mapping[int, float] | None = None) -> dict[int, float]:
    """Default conductivities per tag (S/m), updated with ``overrides`` (tag -> S/m)."""
    table = {tag: sigma for tag, (_, sigma) in TISSUES.items()}
    for tag, sigma in (overrides or {}).items():
        sigma = float(sigma)
        if not np.isfinite(sigma) or sigma <= 0:
            raise MeshError(f"conductivity for tag {tag} must be a positive number, got {sigma}")
        table[int(tag)] = sigma
    return table


def check_override_tags(overrides: Mapping[int, float] | None, present) -> None:
    """Raise :class:`MeshError` if ``overrides`` (tag -> S/m) name a tag not among ``present``:
    a mistyped tag would otherwise change nothing and pass silently."""
    absent = sorted({int(t) for t in (overrides or {})} - {int(t) for t in present})
    if absent:
        raise MeshError(f"conductivity given for tag(s) {absent}, which this head does not have (its tags: "
                        f"{sorted(int(t) for t in present)}); check the tag numbers (SimNIBS: 1 WM, 2 GM, 3 CSF, "
                        "4 bone, 5 scalp, ...)")


def element_conductivity(tags: np.ndarray, overrides: Mapping[int, float] | None = None) -> np.ndarray:
    """Per-element conductivity (S/m), shape (M,), for element tags of shape (M,).

    Raises :class:`MeshError` naming every tag that has no conductivity.
    """
    table = conductivity_table(overrides)
    present, inverse = np.unique(tags, return_inverse=True)
    check_override_tags(overrides, present)
    unknown = [int(t) for t in present if int(t) not in table]
    if unknown:
        counts = {t: int(np.sum(tags == t)) for t in unknown}
        raise MeshError(
            f"no conductivity for tissue tag(s) {unknown} (element counts {counts}); "
            f"known tags are {sorted(table)}; pass conductivities={{tag: S/m}} to set them")
    return np.array([table[int(t)] for t in present])[inverse]


#: relative tolerance on σ − σᵀ for a conductivity tensor to count as symmetric
SYMMETRY_RTOL = 1e-9


def check_tensors(tensors, n_elements: int) -> np.ndarray:
    """Validate per-element conductivity tensors (n_elements, 3, 3) in S/m (also accepts
    (n, 9) rows); raise :class:`MeshError` naming the first element that is not finite,
    symmetric and positive definite."""
    t = np.asarray(tensors, dtype=np.float64)
    if t.ndim == 2 and t.shape[1] == 9:
        t = t.reshape(-1, 3, 3)
    if t.shape != (n_elements, 3, 3):
        raise MeshError(f"conductivity tensors must have shape ({n_elements}, 3, 3), got {t.shape}")
    bad = np.flatnonzero(~np.isfinite(t).all(axis=(1, 2)))
    if len(bad):
        raise MeshError(f"conductivity tensor of element {bad[0]} (0-based) is not finite")
    scale = np.abs(t).max(axis=(1, 2))
    asym = np.flatnonzero(np.abs(t - t.transpose(0, 2, 1)).max(axis=(1, 2)) > SYMMETRY_RTOL * scale)
    if len(asym):
        raise MeshError(f"conductivity tensor of element {asym[0]} (0-based) is not symmetric: {t[asym[0]].tolist()}")
    low = np.linalg.eigvalsh(t)[:, 0]
    notpd = np.flatnonzero(low <= 0)
    if len(notpd):
        raise MeshError(f"conductivity tensor of element {notpd[0]} (0-based) is not positive definite "
                        f"(smallest eigenvalue {low[notpd[0]]:.3g} S/m)")
    return np.ascontiguousarray(t)
