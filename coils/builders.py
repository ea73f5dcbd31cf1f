"""Parametric coil builders (wire-segment models) in SimNIBS coil coordinates.

z points into the head, so windings sit at z = -height (above the coil's bottom face);
y is the handle direction.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..core.errors import CoilError
from .coil import Coil
from .shell import polar_cells

#: segments per turn by default. With area-preserving vertices (below) the measured error of B
#: for a circular loop falls as O(N^-4) and is ~1e-7 relative at 128 segments, 5 mm or more
#: from the wire (tests/test_coil_fields.py::test_builder_loop_convergence)
SEGMENTS_PER_TURN = 128


def area_preserving_factor(segments_per_turn: int) -> float:
    """Radius factor that gives a regular N-gon the area of its circle.

    An inscribed polygon's field errs by O(N^-2) (it encloses too little area); scaling its
    vertices by sqrt(2θ / sin 2θ), θ = π/N, cancels that term and leaves O(N^-4).
    """
    theta = np.pi / segments_per_turn
    return float(np.sqrt(2 * theta / np.sin(2 * theta)))


def _closed_polyline_segments(points: np.ndarray):
    return points, np.roll(points, -1, axis=0)


def _positive(**values):
    for key, v in values.items():
        if not np.isfinite(v) or v <= 0:
            raise CoilError(f"{key} must be a positive finite number, got {v}")


def circular(radius: float = 0.045, turns: int = 10, height: float = 0.004, *, pitch: float = 0.0,
             segments_per_turn: int = SEGMENTS_PER_TURN, name: str | None = None) -> Coil:
    """Round coil centred on the z axis.

    radius : winding radius (m); turns : number of turns; height : distance of the first
    turn above the bottom face (m); pitch : axial spacing between turns (m), 0 stacks the
    turns in one plane (modelled as one loop carrying ``turns`` × the current).
    """
    _positive(radius=radius, turns=turns, height_plus_1=height + 1.0)
    if pitch < 0:
        raise CoilError(f"pitch must be >= 0, got {pitch}")
    n_loops, weight = (1, float(turns)) if pitch == 0 else (int(turns), 1.0)
    if segments_per_turn < 8:
        raise CoilError(f"segments_per_turn must be >= 8, got {segments_per_turn}")
    phi = np.linspace(0.0, 2 * np.pi * n_loops, segments_per_turn * n_loops + 1)
    z = -height - pitch * phi / (2 * np.pi)
    rho = radius * area_preserving_factor(segments_per_turn)
    pts = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
    if pitch == 0:
        starts, ends = _closed_polyline_segments(pts[:-1])
    else:  # helix, closed by a straight axial return lead
        starts, ends = _closed_polyline_segments(pts)
    return Coil(segment_starts=starts, segment_ends=ends,
                segment_weights=np.full(len(starts), weight),
                name=name or f"circular r={radius * 1e3:g} mm, {turns} turns")


def _spiral_wing(inner_radius, outer_radius, turns, segments_per_turn, sense):
    n = round(segments_per_turn * turns)
    phi = np.linspace(0.0, 2 * np.pi * turns, n + 1)
    rho = inner_radius + (outer_radius - inner_radius) * phi / (2 * np.pi * turns)
    rho = rho * area_preserving_factor(segments_per_turn)
    pts = np.stack([rho * np.cos(sense * phi), rho * np.sin(sense * phi), np.zeros_like(phi)], axis=1)
    return _closed_polyline_segments(pts)  # the outer end returns radially to the start


def wing_transform(side: float, centre: float, gap: float, tilt: float, height: float) -> np.ndarray:
    """4×4 map from a wing's own frame (centred at the origin, plane z=0) to coil coordinates:
    shift to x = side*centre, tilt by ``tilt`` (rad) about the y axis through the wing's inner
    edge so its outer edge moves away from the head, lower to z = -height."""
    x0 = side * 0.5 * gap
    a = side * tilt
    rot = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = rot @ [side * centre - x0, 0.0, 0.0] + [x0, 0.0, -height]
    return m


def _dipole_wing(inner_radius, outer_radius, turns, cell, sense):
    """Magnetic-shell model of a flat spiral wing: dipoles on polar cells of size ~``cell``,
    each with moment = area × turns enclosing it, along ``sense`` × z."""
    edges = np.concatenate([np.linspace(0, inner_radius, max(2, int(np.ceil(inner_radius / cell))) + 1),
                            np.linspace(inner_radius, outer_radius,
                                        max(2, int(np.ceil((outer_radius - inner_radius) / cell))) + 1)[1:]])
    pos, mom = [], []
    for r1, r2 in itertools.pairwise(edges):
        enclosed = turns * np.clip((outer_radius - 0.5 * (r1 + r2)) / (outer_radius - inner_radius), 0.0, 1.0)
        cells, area = polar_cells(r1, r2, z=0.0, cell=cell)
        pos.append(cells)
        mom.append(np.tile([0.0, 0.0, sense * enclosed * area], (len(cells), 1)))
    return np.concatenate(pos), np.concatenate(mom)


def figure8(outer_radius: float = 0.0435, inner_radius: float = 0.028, turns: int = 9,
            wing_angle: float = 0.0, height: float = 0.004, *, gap: float = 0.002,
            model: str = "wire", segments_per_turn: int = SEGMENTS_PER_TURN,
            dipole_cell: float = 0.002, name: str | None = None) -> Coil:
    """Figure-of-eight coil: two flat spiral wings with opposite currents.

    outer_radius, inner_radius : spiral radii of each wing (m); turns : turns per wing;
    wing_angle : tilt of each wing about the handle (y) axis, in degrees, outer edges bent away
    from the head (0 = flat); height : winding distance above the bottom face (m);
    gap : distance between the two wings' outer edges (m). Defaults resemble a 70 mm coil
    (Magstim: 9 turns, 56–87 mm diameter). The wings' currents add under the centre, along -y
    (the orientation of SimNIBS' Magstim 70 mm model: left wing moment along -z).
    model : "wire" — each wing a closed spiral of straight segments (its outer end returns
    radially to its inner end); "dipoles" — the equivalent magnetic shell, dipoles on ~``dipole_cell``
    (m) polar cells weighted by the turns enclosing them (as SimNIBS .ccd models are built).
    """
    _positive(outer_radius=outer_radius, inner_radius=inner_radius, turns=turns)
    if inner_radius >= outer_radius:
        raise CoilError(f"inner_radius ({inner_radius}) must be below outer_radius ({outer_radius})")
    if gap < 0 or not -90 < wing_angle < 90:
        raise CoilError("gap must be >= 0 and wing_angle within (-90, 90) degrees")
    if model not in ("wire", "dipoles"):
        raise CoilError(f"model must be 'wire' or 'dipoles', got {model!r}")
    label = name or f"figure-8 {2e3 * outer_radius:g} mm, {turns} turns" + (" (dipoles)" if model == "dipoles" else "")
    parts = {k: [] for k in ("starts", "ends", "pos", "mom")}
    for side in (-1.0, 1.0):
        # sense=side: seen from +z the wing at x<0 turns clockwise, the one at x>0
        # counter-clockwise, so under the centre line (x = 0) both carry current along -y
        m = wing_transform(side, outer_radius + 0.5 * gap, gap, np.deg2rad(wing_angle), height)
        rot, shift = m[:3, :3], m[:3, 3]
        if model == "wire":
            a, b = _spiral_wing(inner_radius, outer_radius, turns, segments_per_turn, sense=side)
            parts["starts"].append(a @ rot.T + shift), parts["ends"].append(b @ rot.T + shift)
        else:
            p, mom = _dipole_wing(inner_radius, outer_radius, turns, dipole_cell, sense=side)
            parts["pos"].append(p @ rot.T + shift), parts["mom"].append(mom @ rot.T)
    if model == "wire":
        return Coil(segment_starts=np.concatenate(parts["starts"]),
                    segment_ends=np.concatenate(parts["ends"]), name=label)
    return Coil(dipole_positions=np.concatenate(parts["pos"]), dipole_moments=np.concatenate(parts["mom"]),
                name=label)


def double_cone(outer_radius: float = 0.06, inner_radius: float = 0.03, turns: int = 10,
                opening_angle: float = 95.0, height: float = 0.004, *, gap: float = 0.002,
                segments_per_turn: int = SEGMENTS_PER_TURN, name: str | None = None) -> Coil:
    """Double-cone coil: two large spiral wings with opposite currents, each bent down towards
    the head so that they meet at ``opening_angle`` (degrees, 180 = flat) along the handle axis
    and hug a convex head. The wires under the centre carry the current of both wings along -y,
    as in :func:`figure8` (which this is, with the wings tilted by -(180 - opening_angle)/2).

    outer_radius, inner_radius : spiral radii of each wing (m); turns : turns per wing;
    height : distance of the wings' inner edges above the bottom face (m); gap : between the
    wings' inner edges (m).
    """
    if not 90.0 <= opening_angle <= 180.0:
        raise CoilError(f"opening_angle must be 90-180 degrees (180 = flat wings), got {opening_angle}")
    return figure8(outer_radius, inner_radius, turns, wing_angle=-(180.0 - opening_angle) / 2, height=height,
                   gap=gap, segments_per_turn=segments_per_turn,
                   name=name or f"double cone {2e3 * outer_radius:g} mm, {turns} turns, {opening_angle:g}°")


def h_coil(strips: int = 10, length: float = 0.10, arc_angle: float = 90.0, base_radius: float = 0.09,
           return_height: float = 0.06, height: float = 0.004, *, name: str | None = None) -> Coil:
    """H-type deep-TMS coil (the principle of Roth, Zangen & Hallett 2002): ``strips`` base
    wires of ``length`` (m) along the handle axis, all carrying the current along -y, spread over
    ``arc_angle`` (degrees) of a cylinder of radius ``base_radius`` (m) that follows the head
    across x; each is closed by a return wire ``return_height`` (m) farther out along the
    cylinder's radius, joined by radial leads, so that the returns' field reaches the head
    weakened by distance. The base wires lie ``height`` (m) above the bottom face at the centre.
    """
    _positive(strips=strips, length=length, arc_angle=arc_angle, base_radius=base_radius,
              return_height=return_height, height_plus_1=height + 1.0)
    if not arc_angle < 180:
        raise CoilError(f"arc_angle must be below 180 degrees, got {arc_angle}")
    phi = np.radians(np.linspace(-arc_angle / 2, arc_angle / 2, int(strips)))
    inward = np.stack([-np.sin(phi), np.zeros_like(phi), np.cos(phi)], axis=1)     # towards the axis (+z)
    axis_point = np.array([0.0, 0.0, base_radius - height])                          # cylinder axis at z
    base = axis_point - base_radius * inward                                         # (strips, 3) at y = 0
    half = np.array([0.0, 0.5 * length, 0.0])
    corners = [base + half, base - half, base - half - return_height * inward, base + half - return_height * inward]
    starts = np.concatenate(corners)
    ends = np.concatenate(corners[1:] + corners[:1])
    return Coil(segment_starts=starts, segment_ends=ends,
                name=name or f"H-type {int(strips)} strips, {1e3 * length:g} mm, {arc_angle:g}°")


BUILTIN = {"figure8": figure8, "circular": circular, "double_cone": double_cone, "h_coil": h_coil}


def builtin(name: str) -> Coil:
    """A built-in coil by name ("figure8", "circular", "double_cone", "h_coil"), with default
    parameters."""
    try:
        return BUILTIN[name]()
    except KeyError:
        raise CoilError(f"unknown built-in coil {name!r}; choose from {sorted(BUILTIN)} "
                        "or give a .ccd/.tcd file") from None
