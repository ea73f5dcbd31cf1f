"""Figure-8 turns trade-off: energy and voltage needed to reach a field at depth, and focality.

For each number of turns n (outer turn radius fixed at 43.5 mm, the size of a 70 mm figure-8),
scipy.optimize.minimize_scalar chooses the inner turn radius that minimises the stored energy the
stimulator must deliver to reach E_THRESHOLD at 20 mm below the scalp of a 95 mm sphere:

    dI/dt needed = E_THRESHOLD / e,   I_peak = T · dI/dt (fixed rise time T),   W = ½ L I_peak²,

with e the field per unit dI/dt (analytic sphere, dipole model) and L from Neumann's formula. For
the optimum it reports L, W, the coil voltage L·dI/dt, the DC resistance, and the focality: the
area (cm²) of the 15 mm-deep spherical surface where |E| ≥ ½ max |E|.

    python examples/figure8_turns_energy_focality.py --size small
"""
from __future__ import annotations

import argparse
import logging

import numpy as np
from scipy.optimize import minimize_scalar

from tmsfield.coils.designs import figure8_design
from tmsfield.coils.windings import WireCrossSection
from tmsfield.validation.analytic import sphere_e_field

log = logging.getLogger("tmsfield")

SCALP_RADIUS, DEPTH, FOCAL_DEPTH = 0.095, 0.020, 0.015     # m
E_THRESHOLD = 100.0     # V/m at DEPTH
RISE_TIME = 100e-6      # s
OUTER_RADIUS, MIN_INNER = 0.0435, 0.008                    # m
WIRE = WireCrossSection(width=0.0018, height=0.006)
SIZES = {"small": {"turns": (3, 5), "segments_per_turn": 24, "dipole_cell": 0.004, "grid": (16, 32),
                   "xatol": 1e-3},
         "full": {"turns": (3, 5, 7, 9, 11, 13), "segments_per_turn": 48, "dipole_cell": 0.002,
                  "grid": (40, 96), "xatol": 2e-4}}


def _placed_dipoles(design):
    m = np.diag([1.0, -1.0, -1.0, 1.0])   # coil centre on the scalp at the top, z into the head
    m[2, 3] = SCALP_RADIUS
    return design.dipoles.transformed(m)


def _design(turns, r_in, opts):
    return figure8_design(np.linspace(r_in, OUTER_RADIUS, turns), wire=WIRE,
                          segments_per_turn=opts["segments_per_turn"], dipole_cell=opts["dipole_cell"])


def needed(turns: int, r_in: float, opts) -> dict:
    """Inductance (H), dI/dt (A/s), peak current (A), energy (J), voltage (V) to reach E_THRESHOLD."""
    design = _design(turns, r_in, opts)
    dip = _placed_dipoles(design)
    e = np.linalg.norm(sphere_e_field([[0.0, 0.0, SCALP_RADIUS - DEPTH]], dip.dipole_positions,
                                      dip.dipole_moments, didt=1.0))
    el = design.electrical()
    didt = E_THRESHOLD / e
    current = didt * RISE_TIME
    return {"turns": turns, "r_in": r_in, "inductance": el.inductance, "resistance": el.resistance,
            "didt": didt, "current": current, "energy": el.energy(current), "voltage": el.voltage(didt),
            "design": design}


def half_value_area(design, grid) -> float:
    """Area (m²) of the sphere of radius SCALP_RADIUS − FOCAL_DEPTH where |E| ≥ ½ max (cap ≤ 60°)."""
    n_t, n_p = grid
    rho = SCALP_RADIUS - FOCAL_DEPTH
    edges = np.linspace(0.0, np.pi / 3, n_t + 1)
    theta = 0.5 * (edges[1:] + edges[:-1])
    phi = (np.arange(n_p) + 0.5) * 2 * np.pi / n_p
    tt, pp = np.meshgrid(theta, phi, indexing="ij")
    pts = rho * np.stack([np.sin(tt) * np.cos(pp), np.sin(tt) * np.sin(pp), np.cos(tt)], -1).reshape(-1, 3)
    area = np.repeat(rho**2 * (np.cos(edges[:-1]) - np.cos(edges[1:])) * 2 * np.pi / n_p, n_p)
    dip = _placed_dipoles(design)
    e = np.linalg.norm(sphere_e_field(pts, dip.dipole_positions, dip.dipole_moments), axis=1)
    return float(area[e >= 0.5 * e.max()].sum())


def main(size: str = "small") -> list[dict]:
    """One row per number of turns: the optimised design's numbers and the bounds' energies."""
    opts = SIZES[size]
    rows = []
    for n in opts["turns"]:
        hi = OUTER_RADIUS - (n - 1) * WIRE.width          # densest winding
        res = minimize_scalar(lambda r, n=n: needed(n, r, opts)["energy"], bounds=(MIN_INNER, hi),
                              method="bounded", options={"xatol": opts["xatol"]})
        row = needed(n, float(res.x), opts)
        row["bound_energies"] = (needed(n, MIN_INNER, opts)["energy"], needed(n, hi, opts)["energy"])
        row["half_value_area"] = half_value_area(row.pop("design"), opts["grid"])
        rows.append(row)
        log.info("%2d turns, r_in %.1f mm: L %.2f µH, R %.1f mΩ, W %.0f J, V %.0f V, I %.0f A, "
                 "half-value area %.1f cm²", n, row["r_in"] * 1e3, row["inductance"] * 1e6,
                 row["resistance"] * 1e3, row["energy"], row["voltage"], row["current"],
                 row["half_value_area"] * 1e4)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(parser.parse_args().size)
