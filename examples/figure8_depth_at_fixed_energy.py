"""Figure-8 design for depth at fixed stored energy: choose wing angle and turn radii (scipy).

Design variables: wing angle θ (deg), outer and inner turn radii r_out, r_in (m); the n turns are
evenly spaced between them and never closer than the wire width; the number of turns is fixed and
the wing size is bounded (r_out ≤ 45 mm, the size of a 90 mm figure-8). The optimiser works on
u ∈ [0, 1]³ mapped onto these ranges (see ``design_vector``).

Normalisation (honest and simple): the stimulator stores a fixed magnetic energy W in the coil at
peak current, ½ L I² = W, and the current rises to that peak in a fixed time T, so the mean
dI/dt = I/T = √(2W/L)/T. The induced field is proportional to dI/dt, so at fixed W and T

    E_target = e(target) · √(2W/L) / T,   e = E per unit dI/dt (V/m per A/s),

and the design trades a larger per-ampere field against a larger inductance. E is the total field
in a conducting sphere (radius 95 mm, Heller & van Hulsteyn 1992, via the design's dipole model:
milliseconds per evaluation); L comes from Neumann's formula on the wire model.

    python examples/figure8_depth_at_fixed_energy.py --size small
"""
from __future__ import annotations

import argparse
import dataclasses
import logging

import numpy as np
from scipy.optimize import minimize

from tmsfield.coils.designs import figure8_design
from tmsfield.coils.windings import WireCrossSection
from tmsfield.validation.analytic import sphere_e_field

log = logging.getLogger("tmsfield")

SCALP_RADIUS = 0.095    # m
DEPTH = 0.020           # m below the scalp
ENERGY = 200.0          # J stored at peak current
RISE_TIME = 100e-6      # s from zero to peak current
WIRE = WireCrossSection(width=0.0018, height=0.006)
SIZES = {"small": {"turns": 4, "segments_per_turn": 24, "maxiter": 40, "dipole_cell": 0.004},
         "full": {"turns": 9, "segments_per_turn": 48, "maxiter": 150, "dipole_cell": 0.002}}
MAX_ANGLE, MIN_OUTER, MAX_OUTER, MIN_INNER = 40.0, 0.025, 0.045, 0.008   # deg, m, m, m


def design_vector(u, turns: int):
    """Map u ∈ [0, 1]³ to (wing angle deg, turn radii (turns,) m)."""
    u = np.clip(np.asarray(u, float), 0.0, 1.0)
    r_out = MIN_OUTER + u[1] * (MAX_OUTER - MIN_OUTER)
    r_in_max = r_out - (turns - 1) * WIRE.width            # densest winding
    r_in = r_in_max - u[2] * (r_in_max - MIN_INNER)
    return u[0] * MAX_ANGLE, np.linspace(r_in, r_out, turns)


@dataclasses.dataclass
class Evaluation:
    """One design's numbers: inductance (H), peak current (A), E at the target (V/m)."""
    x: np.ndarray
    inductance: float
    peak_current: float
    e_target: float


def coil_to_world() -> np.ndarray:
    """4×4 pose: coil centre on the scalp at the top of the sphere, coil z into the head."""
    m = np.diag([1.0, -1.0, -1.0, 1.0])
    m[2, 3] = SCALP_RADIUS
    return m


def evaluate(x, *, turns: int, segments_per_turn: int, dipole_cell: float) -> Evaluation:
    """Inductance, current at the fixed energy and E (V/m) 20 mm deep for design vector x (u)."""
    angle, radii = design_vector(x, turns)
    design = figure8_design(radii, wing_angle=angle, wire=WIRE, segments_per_turn=segments_per_turn,
                            dipole_cell=dipole_cell)
    L = design.inductance()
    current = np.sqrt(2 * ENERGY / L)
    dip = design.dipoles.transformed(coil_to_world())
    target = np.array([[0.0, 0.0, SCALP_RADIUS - DEPTH]])
    e = sphere_e_field(target, dip.dipole_positions, dip.dipole_moments, didt=current / RISE_TIME)
    return Evaluation(np.asarray(x, float), L, float(current), float(np.linalg.norm(e)))


def main(size: str = "small") -> dict:
    """Optimise; returns the start and best Evaluation, the scipy result and the energy check."""
    opts = SIZES[size]
    kw = {k: opts[k] for k in ("turns", "segments_per_turn", "dipole_cell")}
    x0 = np.array([0.1, 0.5, 0.2])
    start = evaluate(x0, **kw)
    res = minimize(lambda x: -evaluate(x, **kw).e_target, x0, method="Nelder-Mead", bounds=[(0, 1)] * 3,
                   options={"maxiter": opts["maxiter"], "xatol": 1e-4, "fatol": 1e-3})
    best = evaluate(res.x, **kw)
    energy = 0.5 * best.inductance * best.peak_current**2
    for label, ev in (("start", start), ("best", best)):
        angle, radii = design_vector(ev.x, opts["turns"])
        log.info("%s: wing angle %.1f°, radii %.1f–%.1f mm: L %.2f µH, I %.0f A, E(%g mm) %.1f V/m",
                 label, angle, radii[0] * 1e3, radii[-1] * 1e3, ev.inductance * 1e6, ev.peak_current,
                 DEPTH * 1e3, ev.e_target)
    return {"start": start, "best": best, "result": res, "energy": energy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(parser.parse_args().size)
