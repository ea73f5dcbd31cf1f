"""Regions of interest: spheres of tissue around a point, and the |E| statistics inside them.

>>> roi = SphereROI(center=(-0.04, -0.01, 0.07), radius=0.01, name="M1")
>>> roi.radius_mm
10.0
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.errors import TmsFieldError
from ...head_models.tissues import BRAIN_TAGS, tissue_name
from .field import weighted_percentile

#: a region larger than this (m) is refused as a unit mistake (mm given as metres)
MAX_RADIUS = 0.2


@dataclasses.dataclass(frozen=True)
class SphereROI:
    """The elements of ``tags`` (default the brain: white and grey matter) whose centroids lie
    within ``radius`` (m) of ``center`` (3,) m; ``name`` labels it in summaries."""
    center: tuple
    radius: float
    name: str = ""
    tags: tuple = BRAIN_TAGS

    def __post_init__(self):
        center = np.asarray(self.center, dtype=float).reshape(-1)
        if center.shape != (3,) or not np.isfinite(center).all():
            raise TmsFieldError(f"ROI centre must be 3 finite coordinates in m, got {self.center!r}")
        if not (np.isfinite(self.radius) and 0 < self.radius <= MAX_RADIUS):
            raise TmsFieldError(f"ROI radius must be in (0, {MAX_RADIUS}] m, got {self.radius!r}"
                                + (" (mm given as metres?)" if np.isfinite(self.radius) and self.radius > 1 else ""))
        object.__setattr__(self, "center", tuple(float(c) for c in center))
        object.__setattr__(self, "tags", tuple(int(t) for t in np.atleast_1d(self.tags)))
        object.__setattr__(self, "name", self.name or f"sphere {self.radius_mm:g} mm at "
                                                      f"{np.round(1e3 * center, 1).tolist()} mm")

    @property
    def radius_mm(self) -> float:
        return 1e3 * self.radius

    def elements(self, head) -> np.ndarray:
        """Indices of ``head``'s elements in the region; a TmsFieldError naming the region and
        the distance to the nearest element of its tags when it holds none."""
        of_tags = np.flatnonzero(np.isin(head.tags, self.tags))
        if not len(of_tags):
            raise TmsFieldError(f"ROI {self.name!r}: the head has no elements of tags {list(self.tags)} "
                                f"({', '.join(tissue_name(t) for t in self.tags)})")
        distance = np.linalg.norm(head.centroids[of_tags] - np.asarray(self.center), axis=1)
        inside = of_tags[distance <= self.radius]
        if not len(inside):
            raise TmsFieldError(f"ROI {self.name!r} holds no element of tags {list(self.tags)}: the nearest is "
                                f"{1e3 * distance.min():.1f} mm from its centre; move it or make it larger")
        return inside

    def statistics(self, result) -> dict:
        """|E| (V/m) statistics of ``result`` (a FieldResult) in the region, JSON-ready:
        volume-weighted mean and median, 99th percentile, maximum; volume (cm³) and elements."""
        idx = self.elements(result.head)
        mag, vol = result.magnE[idx], result.head.volumes[idx]
        return {"name": self.name, "center_mm": np.round(1e3 * np.asarray(self.center), 3).tolist(),
                "radius_mm": self.radius_mm, "tags": list(self.tags), "elements": int(len(idx)),
                "volume_cm3": float(1e6 * vol.sum()), "mean_V_per_m": float(np.average(mag, weights=vol)),
                "median_V_per_m": weighted_percentile(mag, vol, 50.0),
                "p99_V_per_m": weighted_percentile(mag, vol, 99.0), "max_V_per_m": float(mag.max())}
