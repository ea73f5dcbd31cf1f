"""Parametric coil designs with explicit design variables (SI units: m, degrees for angles).

Design variables: the radius of every turn, the wing angle of a figure-8, the number of winding
layers and their pitch, and the conductor cross-section (several parallel filaments). Each
builder returns a :class:`~tmsfield.coils.windings.WoundCoil` holding the filament wire model
(for inductance and Biot–Savart fields) and the equivalent magnetic-shell dipole model (for fast
fields, e.g. ``tmsfield.validation.analytic.sphere_e_field``).

Winding model of one wing (its own frame: centred at the origin, plane z = 0, normal +z):
turns are concentric polygons at the given radii (scaled by the area-preserving factor of
builders.py), joined by one crossover segment each; layer ℓ sits at z = −ℓ · layer_pitch (away
from the head) and is wound outwards on even and inwards on odd layers, with the same sense of
rotation. The winding closes through a single-filament return lead lifted one conductor height
above the top layer and brought down inside the innermost turn.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..core.errors import CoilError
from .builders import SEGMENTS_PER_TURN, area_preserving_factor, wing_transform
from .coil import Coil
from .shell import polar_cells
from .windings import WireCrossSection, WoundCoil, expand_path

#: default conductor: 1.8 × 6 mm copper strip (a flat 70 mm figure-8 is wound from strip of this
#: order; the exact Magstim dimensions are not published)
DEFAULT_WIRE = WireCrossSection(width=0.0018, height=0.006)


def _radii(turn_radii) -> np.ndarray:
    r = np.asarray(turn_radii, dtype=float).reshape(-1)
    if len(r) == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise CoilError(f"turn radii must be positive finite lengths (m), got {r.tolist()}")
    if np.any(np.diff(r) <= 0):
        raise CoilError(f"turn radii must increase strictly from the inner to the outer turn, got {r.tolist()}")
    return r


def _check_fit(r, wire, layers, layer_pitch):
    if len(r) > 1 and np.min(np.diff(r)) < wire.width * (1 - 1e-9):
        k = int(np.argmin(np.diff(r)))
        raise CoilError(f"turns {k} and {k + 1} overlap: radii {r[k]:.5g} and {r[k + 1]:.5g} m are closer than "
                        f"the wire width {wire.width:.4g} m")
    if r[0] <= wire.width:
        raise CoilError(f"inner turn radius {r[0]:.4g} m leaves no room for the lead inside it "
                        f"(needs more than the wire width {wire.width:.4g} m)")
    if layers > 1 and layer_pitch < wire.height * (1 - 1e-9):
        raise CoilError(f"layers overlap: layer_pitch {layer_pitch:.4g} m is below the wire height {wire.height:.4g} m")


def wing_path(turn_radii, *, layers: int = 1, layer_pitch: float = 0.0, sense: float = 1.0,
              segments_per_turn: int = SEGMENTS_PER_TURN):
    """Centre line of one wing's winding, (P, 3) m in the wing frame (plane z = 0, normal +z).

    Turn k of layer ℓ: vertices at angles sense·2πj/N, j = 0 … N−1, radius turn_radii[k] (times
    the area-preserving factor), z = −ℓ·layer_pitch. Consecutive turns are joined by the segment
    from the last vertex of one to the first of the next.
    """
    r = _radii(turn_radii) * area_preserving_factor(segments_per_turn)
    phi = sense * 2 * np.pi * np.arange(segments_per_turn) / segments_per_turn
    rings = []
    for layer in range(int(layers)):
        order = r if layer % 2 == 0 else r[::-1]
        z = -layer * layer_pitch
        rings += [np.stack([rk * np.cos(phi), rk * np.sin(phi), np.full_like(phi, z)], 1) for rk in order]
    return np.concatenate(rings)


def _lead(path, inner_radius, lift, clearance):
    """Return lead from the path's last vertex to its first: up by ``lift`` above the top layer,
    across to just inside the inner turn, down, and out to the start (open polyline, m)."""
    first, last = path[0], path[-1]
    top = path[:, 2].min() - lift
    inside = first[:2] * (1 - clearance / inner_radius)
    return np.array([last, [last[0], last[1], top], [inside[0], inside[1], top],
                     [inside[0], inside[1], first[2]], first])


def _shell(rings, cell: float):
    """Magnetic shell of coaxial circular filaments in their wing frame: per plane z, dipoles on
    polar cells of size ~``cell`` (m), moment = cell area × the current of the rings enclosing it.
    rings : (K, 3) rows (radius m, current weight, z m). Returns positions (D, 3), moments (D, 3)."""
    pos, mom = [], []
    for z in np.unique(rings[:, 2]):
        sel = rings[rings[:, 2] == z]
        radii = np.unique(sel[:, 0])
        edges = [0.0]
        for r0, r1 in zip(np.concatenate([[0.0], radii[:-1]]), radii):
            edges += list(np.linspace(r0, r1, max(1, int(np.ceil((r1 - r0) / cell))) + 1)[1:])
        edges = np.array(edges)
        for r1, r2 in itertools.pairwise(edges):
            enclosed = sel[sel[:, 0] > 0.5 * (r1 + r2), 1].sum()
            if enclosed == 0:
                continue
            cells, area = polar_cells(r1, r2, z=z, cell=cell)
            pos.append(cells)
            mom.append(np.tile([0.0, 0.0, enclosed * area], (len(cells), 1)))
    return np.concatenate(pos), np.concatenate(mom)


def _wing(turn_radii, wire, layers, layer_pitch, sense, segments_per_turn, dipole_cell):
    """One wing in its own frame: (starts, ends, weights, gmd, dipole positions, moments)."""
    r = _radii(turn_radii)
    path = wing_path(r, layers=layers, layer_pitch=layer_pitch, sense=sense,
                     segments_per_turn=segments_per_turn)
    s, e, w, g = expand_path(path, [0.0, 0.0, 1.0], wire)
    lead = _lead(path, r[0] * area_preserving_factor(segments_per_turn), wire.height, wire.width)
    whole_gmd = wire.filaments()[2][0] if wire.n_width * wire.n_height == 1 else \
        WireCrossSection(wire.width, wire.height, wire.shape).filaments()[2][0]
    s, e = np.concatenate([s, lead[:-1]]), np.concatenate([e, lead[1:]])
    w, g = np.concatenate([w, np.ones(len(lead) - 1)]), np.concatenate([g, np.full(len(lead) - 1, whole_gmd)])
    offs, fw, _ = wire.filaments()
    rings = [(rk + oa, f, -layer * layer_pitch + on)
             for layer in range(int(layers)) for rk in r for (oa, on), f in zip(offs, fw)]
    pos, mom = _shell(np.array(rings), dipole_cell)
    return s, e, w, g, pos, sense * mom


def _check_common(layers, layer_pitch, segments_per_turn, dipole_cell):
    if int(layers) != layers or layers < 1:
        raise CoilError(f"layers must be a positive integer, got {layers}")
    if not np.isfinite(layer_pitch) or layer_pitch < 0:
        raise CoilError(f"layer_pitch must be a finite length >= 0 (m), got {layer_pitch}")
    if int(segments_per_turn) < 8:
        raise CoilError(f"segments_per_turn must be >= 8, got {segments_per_turn}")
    if not np.isfinite(dipole_cell) or dipole_cell <= 0:
        raise CoilError(f"dipole_cell must be a positive length (m), got {dipole_cell}")


def figure8_design(turn_radii=None, *, wing_angle: float = 0.0, height: float = 0.004,
                   gap: float = 0.002, layers: int = 1, layer_pitch: float | None = None,
                   wire: WireCrossSection | None = None, segments_per_turn: int = 64,
                   dipole_cell: float = 0.002, name: str | None = None) -> WoundCoil:
    """Figure-of-eight coil from explicit design variables.

    turn_radii : (n,) m, radius of each turn of a wing, inner to outer (both wings alike);
    default 9 turns evenly from 28 to 43.5 mm (as builders.figure8). wing_angle : degrees, tilt
    of each wing about the handle (y) axis, outer edges away from the head. height : m from the
    bottom face to the first layer's centre line. gap : m between the wings' outer conductor
    edges. layers : stacked spiral layers per wing at ``layer_pitch`` (m, default one wire
    height). wire : conductor cross-section and filament split (default 1.8 × 6 mm strip, one
    filament). Currents add under the centre along −y, as in builders.figure8.
    """
    wire = DEFAULT_WIRE if wire is None else wire
    r = _radii(np.linspace(0.028, 0.0435, 9) if turn_radii is None else turn_radii)
    layer_pitch = wire.height if layer_pitch is None else float(layer_pitch)
    _check_common(layers, layer_pitch, segments_per_turn, dipole_cell)
    _check_fit(r, wire, layers, layer_pitch)
    if not np.isfinite(gap) or gap < 0 or not np.isfinite(wing_angle) or not -90 < wing_angle < 90:
        raise CoilError(f"gap must be >= 0 m and wing_angle within (-90, 90) degrees, got {gap}, {wing_angle}")
    if not np.isfinite(height):
        raise CoilError(f"height must be finite (m), got {height}")
    edge = r[-1] + 0.5 * wire.width  # outer conductor edge of a wing
    parts = {k: [] for k in ("s", "e", "w", "g", "p", "m")}
    for side in (-1.0, 1.0):
        s, e, w, g, p, m = _wing(r, wire, layers, layer_pitch, side, segments_per_turn, dipole_cell)
        t = wing_transform(side, edge + 0.5 * gap, gap, np.deg2rad(wing_angle), height)
        rot, shift = t[:3, :3], t[:3, 3]
        for k, val in zip("sewgpm", (s @ rot.T + shift, e @ rot.T + shift, w, g, p @ rot.T + shift, m @ rot.T)):
            parts[k].append(val)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    label = name or f"figure-8 design {len(r)} turns × {layers} layer(s), r {r[0] * 1e3:.3g}–{r[-1] * 1e3:.3g} mm"
    coil = Coil(segment_starts=cat["s"], segment_ends=cat["e"], segment_weights=cat["w"], name=label)
    dip = Coil(dipole_positions=cat["p"], dipole_moments=cat["m"], name=label + " (dipoles)")
    return WoundCoil(coil=coil, gmd=cat["g"], cross_section=wire, dipoles=dip, wire_area=wire.area)


def circular_design(turn_radii, *, height: float = 0.004, layers: int = 1, layer_pitch: float | None = None,
                    wire: WireCrossSection | None = None, segments_per_turn: int = 64,
                    dipole_cell: float = 0.002, name: str | None = None) -> WoundCoil:
    """Round (flat spiral) coil centred on the z axis from explicit turn radii (m); the other
    arguments as in :func:`figure8_design`. Seen from +z (the head) the current turns
    counter-clockwise."""
    wire = DEFAULT_WIRE if wire is None else wire
    r = _radii(turn_radii)
    layer_pitch = wire.height if layer_pitch is None else float(layer_pitch)
    _check_common(layers, layer_pitch, segments_per_turn, dipole_cell)
    _check_fit(r, wire, layers, layer_pitch)
    if not np.isfinite(height):
        raise CoilError(f"height must be finite (m), got {height}")
    s, e, w, g, p, m = _wing(r, wire, layers, layer_pitch, 1.0, segments_per_turn, dipole_cell)
    shift = np.array([0.0, 0.0, -height])
    label = name or f"circular design {len(r)} turns × {layers} layer(s), r {r[0] * 1e3:.3g}–{r[-1] * 1e3:.3g} mm"
    coil = Coil(segment_starts=s + shift, segment_ends=e + shift, segment_weights=w, name=label)
    dip = Coil(dipole_positions=p + shift, dipole_moments=m, name=label + " (dipoles)")
    return WoundCoil(coil=coil, gmd=g, cross_section=wire, dipoles=dip, wire_area=wire.area)
