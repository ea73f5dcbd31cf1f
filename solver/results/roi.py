"""Regions of interest (spheres of tissue around a point, voxels of a NIfTI mask or atlas label,
patches of the grey-matter mid-surface) and the |E| statistics inside them.

>>> roi = SphereROI(center=(-0.04, -0.01, 0.07), radius=0.01, name="M1")
>>> roi.radius_mm
10.0
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ...core.errors import FileFormatError, TmsFieldError
from ...core.optional import require
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
        """|E| statistics of ``result`` in the region (:func:`region_statistics`), with its
        centre (mm) and radius (mm)."""
        return {"name": self.name, "center_mm": np.round(1e3 * np.asarray(self.center), 3).tolist(),
                "radius_mm": self.radius_mm, "tags": list(self.tags),
                **region_statistics(result, self.elements(result.head))}

    @classmethod
    def under(cls, head, point, radius: float, name: str = "", tags=BRAIN_TAGS) -> SphereROI:
        """A sphere of ``radius`` (m) centred on the element of ``tags`` nearest to ``point`` (m),
        e.g. the cortex under an EEG position on the scalp."""
        of_tags = np.flatnonzero(np.isin(head.tags, tags))
        if not len(of_tags):
            raise TmsFieldError(f"ROI {name!r}: the head has no elements of tags {list(tags)}")
        nearest = of_tags[np.argmin(np.linalg.norm(head.centroids[of_tags] - np.asarray(point, float), axis=1))]
        return cls(center=tuple(head.centroids[nearest]), radius=radius, name=name, tags=tags)


@dataclasses.dataclass(frozen=True)
class MaskROI:
    """The elements of ``tags`` whose centroids lie in the voxels of a NIfTI image ``path``
    (world coordinates in mm, as the head's) that are non-zero, or equal to ``label`` (an atlas
    region); ``name`` labels it in summaries. Needs nibabel (``tmsfield[nifti]``)."""
    path: Path
    label: int | None = None
    name: str = ""
    tags: tuple = BRAIN_TAGS

    def __post_init__(self):
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "tags", tuple(int(t) for t in np.atleast_1d(self.tags)))
        object.__setattr__(self, "name", self.name or self.path.name + ("" if self.label is None else
                                                                       f" label {self.label}"))

    def elements(self, head) -> np.ndarray:
        """Indices of ``head``'s elements in the region; named errors for unreadable images, no
        overlap with the head, or an empty region."""
        nibabel = require("nibabel", extra="nifti", purpose="NIfTI mask regions of interest")
        try:
            image = nibabel.load(os.fspath(self.path))
            data = np.asanyarray(image.dataobj)
        except Exception as exc:   # nibabel raises many types for missing or corrupt files
            raise FileFormatError(f"{self.path}: not a readable NIfTI mask ({exc})") from None
        if data.ndim != 3:
            raise FileFormatError(f"{self.path}: a mask is a 3-D image, got shape {data.shape}")
        voxel = np.rint((np.linalg.inv(image.affine) @ np.c_[1e3 * head.centroids, np.ones(head.n_tets)].T)[:3]).T
        inside = np.all((voxel >= 0) & (voxel < data.shape), axis=1)
        if not inside.any():
            raise TmsFieldError(f"{self.path}: the mask does not overlap the head (its voxels lie elsewhere in "
                                "world coordinates; the head is in mm as the mask's affine must be)")
        values = np.zeros(head.n_tets)
        values[inside] = data[tuple(voxel[inside].astype(int).T)]
        chosen = (values == self.label) if self.label is not None else (values != 0)
        selected = np.flatnonzero(chosen & np.isin(head.tags, self.tags))
        if not len(selected):
            raise TmsFieldError(f"ROI {self.name!r} holds no element of tags {list(self.tags)}"
                                + (f" (no voxel has label {self.label})" if self.label is not None
                                   and not np.any(data == self.label) else ""))
        return selected

    def statistics(self, result) -> dict:
        """|E| statistics of ``result`` in the region (:func:`region_statistics`)."""
        return {"name": self.name, "mask": str(self.path), "label": self.label, "tags": list(self.tags),
                **region_statistics(result, self.elements(result.head))}


@dataclasses.dataclass(frozen=True)
class CortexROI:
    """A patch of the grey-matter mid-surface: its vertices within ``radius`` (m) of ``center``
    (3,) m. Its statistics weigh each vertex by its area (a third of its triangles') and add the
    normal and tangential parts of E (solver/results/cortex.py)."""
    center: tuple
    radius: float
    name: str = ""

    def __post_init__(self):
        sphere = SphereROI(self.center, self.radius, name=self.name or "patch")   # the same checks
        object.__setattr__(self, "center", sphere.center)
        object.__setattr__(self, "name", self.name or f"cortex patch {1e3 * self.radius:g} mm at "
                                                      f"{np.round(1e3 * np.asarray(sphere.center), 1).tolist()} mm")

    def _vertices(self, vertices) -> np.ndarray:
        inside = np.flatnonzero(np.linalg.norm(vertices - np.asarray(self.center), axis=1) <= self.radius)
        if not len(inside):
            nearest = np.linalg.norm(vertices - np.asarray(self.center), axis=1).min()
            raise TmsFieldError(f"ROI {self.name!r} holds no vertex of the grey-matter mid-surface: the nearest is "
                                f"{1e3 * nearest:.1f} mm from its centre; move it or make it larger")
        return inside

    def elements(self, head) -> np.ndarray:
        """The mid-surface vertices in the patch (checks before a solve that it holds some)."""
        return self._vertices(head.grey_matter_midsurface()[0])

    def statistics(self, result) -> dict:
        """|E|, E·n and tangential E (V/m) on the patch, area-weighted, JSON-ready."""
        from ...head_models.geometry import triangle_normals
        vertices, triangles, fields = result.cortex
        _, areas = triangle_normals(vertices, triangles)
        vertex_area = np.bincount(triangles.ravel(), weights=np.repeat(areas / 3.0, 3), minlength=len(vertices))
        idx = self._vertices(vertices)
        w, mag = vertex_area[idx], fields["magnE"][idx]
        return {"name": self.name, "center_mm": np.round(1e3 * np.asarray(self.center), 3).tolist(),
                "radius_mm": 1e3 * self.radius, "vertices": int(len(idx)), "area_cm2": float(1e4 * w.sum()),
                "mean_V_per_m": float(np.average(mag, weights=w)), "median_V_per_m": weighted_percentile(mag, w, 50.0),
                "p99_V_per_m": weighted_percentile(mag, w, 99.0), "max_V_per_m": float(mag.max()),
                "mean_E_normal_V_per_m": float(np.average(fields["E_normal"][idx], weights=w)),
                "mean_abs_E_normal_V_per_m": float(np.average(np.abs(fields["E_normal"][idx]), weights=w)),
                "mean_E_tangential_V_per_m": float(np.average(fields["E_tangential"][idx], weights=w))}


def region_statistics(result, elements) -> dict:
    """|E| (V/m) of ``result`` over ``elements`` (indices), JSON-ready: volume-weighted mean and
    median, 99th percentile, maximum; volume (cm³) and the number of elements."""
    mag, vol = result.magnE[elements], result.head.volumes[elements]
    return {"elements": int(len(elements)), "volume_cm3": float(1e6 * vol.sum()),
            "mean_V_per_m": float(np.average(mag, weights=vol)), "median_V_per_m": weighted_percentile(mag, vol, 50.0),
            "p99_V_per_m": weighted_percentile(mag, vol, 99.0), "max_V_per_m": float(mag.max())}
