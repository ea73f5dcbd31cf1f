"""Magnetic-shell models of flat windings: the plane of a winding cut into polar cells, each a
magnetic dipole whose moment is its area times the current of the turns enclosing it (how
SimNIBS' .ccd dipole models are built). Used by the built-in coils (builders.py) and the
parametric designs (designs.py).

>>> positions, area = polar_cells(0.01, 0.012, z=0.0, cell=0.002)
>>> positions.shape, round(area * 1e6, 4)           # 35 cells on the ring, mm² each
((35, 3), 3.9494)
"""
from __future__ import annotations

import numpy as np


def polar_cells(r1: float, r2: float, *, z: float, cell: float) -> tuple[np.ndarray, float]:
    """Cells of the ring r1 < r < r2 (m) in the plane ``z`` (m), about ``cell`` (m) long along
    the ring (at least 8): their area centroids (n, 3) m and their common area (m²)."""
    mid = 0.5 * (r1 + r2)
    n_phi = max(8, int(np.ceil(2 * np.pi * mid / cell)))
    phi = (np.arange(n_phi) + 0.5) * 2 * np.pi / n_phi
    centroid = 2.0 / 3.0 * (r2**3 - r1**3) / (r2**2 - r1**2) * np.sinc(1.0 / n_phi)
    area = np.pi * (r2**2 - r1**2) / n_phi
    return np.stack([centroid * np.cos(phi), centroid * np.sin(phi), np.full(n_phi, z)], axis=1), area
