"""A 10-10 EEG cap computed on a head's scalp from its fiducials (nasion, inion, preauricular
points), for heads that come without one (the demo head, spheres, surfaces-only heads).

The construction is the proportional one of the 10-20 / 10-10 systems as Jurcak, Tsuzuki &
Dan (2007, NeuroImage 34:1600, "UI 10/10") define it, with each curve the intersection of the
scalp and a plane (the usual stand-in for the geodesic):

1. midline: Nz → Iz in the plane through Nz and Iz normal to the LPA→RPA direction (its part
   orthogonal to Nz→Iz); Fpz, AFz, Fz, FCz, Cz, CPz, Pz, POz, Oz at 10 … 90 % of its length;
2. central line: LPA → Cz → RPA; T7, C5, C3, C1 at 10 … 40 %, C2, C4, C6, T8 at 60 … 90 %;
3. the 10 % circumference, left half Fpz → T7 → Oz and right half Fpz → T8 → Oz: Fp1, AF7,
   F7, FT7, (T7), TP7, P7, PO7, O1 at 10 … 90 % of each half (Fp2, AF8, … on the right);
4. for each row (F, FC, CP, P) the curve from its circumference point through its midline point
   to the other side (F7 → Fz → F8): F5, F3, F1 at 25, 50, 75 % of the left half (F2, F4, F6 on
   the right); for AF and PO only AF3/AF4, PO3/PO4 at 50 %.

Each plane curve is traced by rays from an interior point (the midpoint of its end points),
each ray's scalp crossing found by bisection on the signed distance, and the curve
parametrised by arc length. Positions are in metres, as the fiducials.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import TmsFieldError

#: fiducial names the construction needs
FIDUCIALS = ("Nz", "Iz", "LPA", "RPA")
#: rays per curve: the arc-length error of the polyline is ~(π/RAYS)²/24 of the length
RAYS = 720
#: bisection steps on each ray: 2⁻⁴⁰ of the ray length (~1e-13 m)
BISECTIONS = 40
#: the rows between the midline and the circumference: (left end, midline point)
ROWS = {"AF": ("AF7", "AFz"), "F": ("F7", "Fz"), "FC": ("FT7", "FCz"), "CP": ("TP7", "CPz"), "P": ("P7", "Pz"),
        "PO": ("PO7", "POz")}
MIDLINE = ("Fpz", "AFz", "Fz", "FCz", "Cz", "CPz", "Pz", "POz", "Oz")
CIRCUMFERENCE = ("Fp{}", "AF{}", "F{}", "FT{}", "T{}", "TP{}", "P{}", "PO{}", "O{}")


def _unit(v):
    return v / np.linalg.norm(v)


def _trace(scalp, start, through, end):
    """The scalp curve from ``start`` through ``through`` to ``end`` in their plane: points
    (RAYS + 1, 3) m, their arc lengths (RAYS + 1,) m, and the arc length at ``through``."""
    start, through, end = (np.asarray(p, float) for p in (start, through, end))
    centre = 0.5 * (start + end)
    if (scalp.signed_distance(centre[None]) >= 0).any():
        raise TmsFieldError("the EEG cap construction needs the midpoint of each curve's ends inside the head: "
                            "check that the fiducials lie on this head's scalp (metres)")
    e1 = _unit(start - centre)
    e2 = through - centre
    e2 = _unit(e2 - (e2 @ e1) * e1)
    end_angle = np.arctan2((end - centre) @ e2, (end - centre) @ e1) % (2 * np.pi)
    through_angle = np.arctan2((through - centre) @ e2, (through - centre) @ e1) % (2 * np.pi)
    if not 0 < through_angle < end_angle:
        raise TmsFieldError("the EEG cap construction needs the middle point between the two ends of each curve: "
                            "check the fiducials (Nz front, Iz back, LPA left, RPA right)")
    angles = np.linspace(0.0, end_angle, RAYS + 1)
    directions = np.cos(angles)[:, None] * e1 + np.sin(angles)[:, None] * e2
    lo = np.zeros(len(angles))
    hi = np.full(len(angles), 4.0 * np.linalg.norm(start - centre) + 0.05)
    for _ in range(BISECTIONS):
        middle = 0.5 * (lo + hi)
        inside = scalp.signed_distance(centre + middle[:, None] * directions) < 0
        lo, hi = np.where(inside, middle, lo), np.where(inside, hi, middle)
    curve = centre + (0.5 * (lo + hi))[:, None] * directions
    length = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    return curve, length, float(np.interp(through_angle, angles, length))


def _at(curve, length, arc_lengths) -> np.ndarray:
    """Points of ``curve`` at ``arc_lengths`` (m) along it."""
    return np.stack([np.interp(arc_lengths, length, curve[:, k]) for k in range(3)], axis=1)


def scalp_arc(scalp, start, through, end, fractions) -> np.ndarray:
    """Points (len(fractions), 3) m at ``fractions`` of the arc length of the scalp curve from
    ``start`` through ``through`` to ``end`` (3-vectors, m) in the plane of the three points."""
    curve, length, _ = _trace(scalp, start, through, end)
    return _at(curve, length, np.asarray(fractions, float) * length[-1])


def cap_10_10(scalp, fiducials: dict) -> dict[str, np.ndarray]:
    """The 10-10 positions {name: (3,) m} on ``scalp`` (a ScalpSurface, e.g. ``head.scalp``)
    from ``fiducials`` {"Nz", "Iz", "LPA", "RPA": (3,) m on the scalp}; the fiducials are
    included. See the module docstring for the construction."""
    missing = [name for name in FIDUCIALS if name not in fiducials]
    if missing:
        raise TmsFieldError(f"a 10-10 cap needs the fiducials {list(FIDUCIALS)}; missing {missing}")
    nz, iz, lpa, rpa = (np.asarray(fiducials[k], float).reshape(3) for k in FIDUCIALS)
    cap = {"Nz": nz, "Iz": iz, "LPA": lpa, "RPA": rpa}
    back = _unit(iz - nz)
    right = rpa - lpa
    right = _unit(right - (right @ back) * back)
    up = _unit(np.cross(back, right))                 # (front → back) × (left → right) points up
    top = 0.5 * (nz + iz) + up * np.linalg.norm(iz - nz)
    tenths = np.arange(1, 10) / 10
    cap.update(zip(MIDLINE, scalp_arc(scalp, nz, top, iz, tenths)))
    central = dict(zip(("T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8"),
                       scalp_arc(scalp, lpa, cap["Cz"], rpa, tenths)))
    central.pop("Cz")                                 # the midline's Cz stays
    cap.update(central)
    for side, lateral in (("1", "T7"), ("2", "T8")):
        names = [_circumference_name(template, side) for template in CIRCUMFERENCE]
        points = scalp_arc(scalp, cap["Fpz"], cap[lateral], cap["Oz"], tenths)
        cap.update((name, p) for name, p in zip(names, points) if name != lateral)
    for row, (left_end, middle) in ROWS.items():
        curve, length, at_middle = _trace(scalp, cap[left_end], cap[middle], cap[left_end.replace("7", "8")])
        quarters = (0.25, 0.5, 0.75) if row in ("F", "FC", "CP", "P") else (0.5,)
        left = _at(curve, length, [q * at_middle for q in quarters])
        right = _at(curve, length, [at_middle + q * (length[-1] - at_middle) for q in quarters])
        if len(quarters) == 3:
            cap.update(zip((f"{row}5", f"{row}3", f"{row}1"), left))
            cap.update(zip((f"{row}2", f"{row}4", f"{row}6"), right))
        else:
            cap.update({f"{row}3": left[0], f"{row}4": right[0]})
    return cap


def _circumference_name(template: str, side: str) -> str:
    """"F{}" → F7 / F8 on the 10 % circumference (Fp1/Fp2 and O1/O2 keep their numbers)."""
    if template in ("Fp{}", "O{}"):
        return template.format(side)
    return template.format("7" if side == "1" else "8")
