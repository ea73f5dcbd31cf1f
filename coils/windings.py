"""Conductors with a real cross-section, modelled as parallel filaments (SI units: m).

A conductor of width w (across the wire, in the winding plane) × height h (along the winding's
normal) is split into n_width × n_height filaments at the centres of equal cells; each carries
1/(number of filaments) of the current (uniform current density, the low-frequency limit), and
its own self term uses the geometric mean distance of its cell. The inductance of the winding then
comes from filament–filament mutual inductances (coils/inductance.py), which resolves the
proximity of neighbouring turns that a single thin-wire model misses.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.errors import CoilError
from .coil import Coil
from .electrical import COPPER_RESISTIVITY, CoilElectrical, resistance, wire_length
from .inductance import mutual_inductance, rect_gmd, round_wire_gmd, self_inductance


@dataclasses.dataclass(frozen=True)
class WireCrossSection:
    """Conductor cross-section.

    width : m across the wire in the winding plane (the diameter for ``shape="round"``);
    height : m along the winding normal (ignored for round wire); shape : "rect" | "round";
    n_width, n_height : filaments across and along (round wire keeps the cells of an
    n_width × n_width grid whose centres fall inside the circle).
    """
    width: float
    height: float | None = None
    shape: str = "rect"
    n_width: int = 1
    n_height: int = 1

    def __post_init__(self):
        if self.shape not in ("rect", "round"):
            raise CoilError(f"cross-section shape must be 'rect' or 'round', got {self.shape!r}")
        h = self.width if self.shape == "round" or self.height is None else self.height
        object.__setattr__(self, "height", h)
        for key in ("width", "height"):
            v = getattr(self, key)
            if not np.isfinite(v) or v <= 0:
                raise CoilError(f"wire {key} must be a positive finite length (m), got {v}")
        for key in ("n_width", "n_height"):
            if int(getattr(self, key)) < 1:
                raise CoilError(f"{key} must be >= 1 filament, got {getattr(self, key)}")

    @property
    def area(self) -> float:
        """Conductor area (m²)."""
        return np.pi * self.width**2 / 4 if self.shape == "round" else self.width * self.height

    def filaments(self):
        """(offsets (F, 2) m as (across, normal), weights (F,) summing to 1, gmd (F,) m)."""
        if self.shape == "round":
            n = int(self.n_width)
            if n == 1:
                return np.zeros((1, 2)), np.ones(1), np.array([round_wire_gmd(self.width / 2)])
            cell = self.width / n
            c = (np.arange(n) - (n - 1) / 2) * cell
            grid = np.stack(np.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)
            grid = grid[np.hypot(grid[:, 0], grid[:, 1]) <= self.width / 2]
            return grid, np.full(len(grid), 1 / len(grid)), np.full(len(grid), rect_gmd(cell, cell))
        nw, nh = int(self.n_width), int(self.n_height)
        cw, ch = self.width / nw, self.height / nh
        a = (np.arange(nw) - (nw - 1) / 2) * cw
        b = (np.arange(nh) - (nh - 1) / 2) * ch
        grid = np.stack(np.meshgrid(a, b, indexing="ij"), -1).reshape(-1, 2)
        return grid, np.full(len(grid), 1 / len(grid)), np.full(len(grid), rect_gmd(cw, ch))


def expand_path(vertices: np.ndarray, normal, cross_section: WireCrossSection | None):
    """Filament polylines of one open winding path.

    vertices : (P, 3) m centre line; normal : (3,) unit normal of the winding plane.
    Each filament follows the path offset by its (across, normal) position; the offset tapers to
    zero at the first and last vertex so that all filaments meet the single-filament lead there.
    Returns starts (F·(P−1), 3), ends, weights, gmd (per segment).
    """
    v = np.asarray(vertices, float)
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    if cross_section is None:
        raise CoilError("expand_path needs a WireCrossSection")
    offs, weights, gmd = cross_section.filaments()
    tangent = np.gradient(v, axis=0)
    across = np.cross(tangent, n)
    across /= np.linalg.norm(across, axis=1)[:, None]
    taper = np.ones(len(v))
    taper[[0, -1]] = 0.0
    starts, ends, w, g = [], [], [], []
    for (oa, on), wf, gf in zip(offs, weights, gmd):
        path = v + taper[:, None] * (oa * across + on * n)
        starts.append(path[:-1]), ends.append(path[1:])
        w.append(np.full(len(v) - 1, wf)), g.append(np.full(len(v) - 1, gf))
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(w), np.concatenate(g)


@dataclasses.dataclass(frozen=True, eq=False)
class WoundCoil:
    """A coil design: its filament wire model, per-segment GMD, and (optionally) a dipole model.

    coil : :class:`~tmsfield.coils.Coil` of filament segments (weights = current per ampere).
    gmd : (S,) m, each segment's self-GMD.   cross_section : the conductor, or None (round
    wire of GMD ``gmd``).   dipoles : magnetic-shell model of the same windings (for fast fields,
    e.g. the analytic sphere), or None.   wire_area : m² for the resistance, or None.
    """
    coil: Coil
    gmd: np.ndarray
    cross_section: WireCrossSection | None = None
    dipoles: Coil | None = None
    wire_area: float | None = None

    @property
    def name(self) -> str:
        return self.coil.name

    def inductance(self, **kwargs) -> float:
        """Self-inductance (H) (coils.inductance.self_inductance with this design's GMDs)."""
        return self_inductance(self.coil, gmd=self.gmd, **kwargs)

    def mutual_inductance(self, other) -> float:
        """Mutual inductance (H) with another WoundCoil or wire Coil."""
        return mutual_inductance(self.coil, other.coil if isinstance(other, WoundCoil) else other)

    def wire_length(self) -> float:
        """Conductor length (m)."""
        return wire_length(self.coil)

    def electrical(self, *, resistivity: float = COPPER_RESISTIVITY) -> CoilElectrical:
        """Inductance, DC resistance (when the wire area is known) and wire length."""
        length = self.wire_length()
        r = resistance(length, self.wire_area, resistivity) if self.wire_area else None
        return CoilElectrical(inductance=self.inductance(), resistance=r, wire_length=length,
                              wire_area=self.wire_area, name=self.name)
