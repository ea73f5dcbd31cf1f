"""Inductance of wire coils (coils/inductance.py, Neumann) against independent references.

References, none of which uses the Neumann segment code:
- single circular loop of round wire, radius R, wire radius a, uniform current:
  L = μ0 R [ln(8R/a) − 2 + 1/4] (external term Maxwell/Kirchhoff, internal μ0R/4; Jackson,
  Classical Electrodynamics 3rd ed., problem 5.32 and §5.17; Rosa & Grover 1912, eq. (72)),
  relative error O((a/R)² ln(R/a));
- coaxial circular filaments: Maxwell's formula M = μ0 √(R1 R2) [(2/k − k) K(k) − (2/k) E(k)],
  k² = 4 R1 R2 / ((R1 + R2)² + z²) (Maxwell, Treatise §701; scipy.special.ellipk/ellipe take
  m = k²); a multi-turn coil = Σ_i L_i + Σ_{i≠j} M_ij, L_i the ring formula above with the
  conductor's GMD (L = μ0 R [ln(8R/g) − 2]);
- figure-8: each wing = its rings (as above), and the wing–wing mutual inductance as the flux of
  one wing's Biot–Savart field (tf.Coil.b_field, wire model) through the other wing's winding
  area, weighted by the number of turns enclosing each point (Gauss–Legendre in radius ×
  midpoint rule in angle on the flat wing).

Run:  python -m tmsfield.validation.coil_inductance   (writes validation/results/coil_inductance.{md,json})
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy.special import ellipe, ellipk

import tmsfield as tf
from tmsfield.coils.builders import area_preserving_factor
from tmsfield.coils.designs import figure8_design
from tmsfield.coils.inductance import rect_gmd, round_wire_gmd, self_inductance
from tmsfield.coils.windings import WireCrossSection
from tmsfield.core.files import write_text_atomic

log = logging.getLogger("tmsfield")
MU0 = 4e-7 * np.pi
RESULTS = Path(__file__).resolve().parent / "results"


# --- independent references -------------------------------------------------------------
def loop_self(radius: float, gmd: float) -> float:
    """Thin-ring self-inductance μ0 R [ln(8R/g) − 2] (H); g = a·e^(−1/4) gives the uniform-current
    round-wire formula μ0 R [ln(8R/a) − 7/4]."""
    return MU0 * radius * (np.log(8 * radius / gmd) - 2.0)


def maxwell_mutual(r1, r2, z) -> np.ndarray:
    """Mutual inductance (H) of coaxial circular filaments of radii r1, r2 (m) at axial distance z."""
    r1, r2, z = np.broadcast_arrays(*(np.asarray(x, float) for x in (r1, r2, z)))
    m = 4 * r1 * r2 / ((r1 + r2) ** 2 + z**2)
    k = np.sqrt(m)
    return MU0 * np.sqrt(r1 * r2) * ((2 / k - k) * ellipk(m) - 2 / k * ellipe(m))


def rings_inductance(radii, z, gmd) -> float:
    """Σ_i L_i + Σ_{i≠j} M_ij (H) for coaxial rings (radii, z in m; gmd of the conductor, m)."""
    radii, z = np.asarray(radii, float), np.asarray(z, float)
    i, j = np.triu_indices(len(radii), 1)
    return float(np.sum(loop_self(radii, gmd)) + 2 * np.sum(maxwell_mutual(radii[i], radii[j], z[i] - z[j])))


def ring_coil(radii, z, segments: int, name="rings") -> tf.Coil:
    """Separate closed polygon rings (area-preserving vertices), one per (radius, z), weight 1."""
    phi = 2 * np.pi * np.arange(segments) / segments
    f = area_preserving_factor(segments)
    starts, ends = [], []
    for r, zz in zip(radii, z):
        v = np.stack([f * r * np.cos(phi), f * r * np.sin(phi), np.full(segments, zz)], 1)
        starts.append(v), ends.append(np.roll(v, -1, 0))
    return tf.Coil(segment_starts=np.concatenate(starts), segment_ends=np.concatenate(ends), name=name)


def flux_mutual(source: tf.Coil, radii, frame: np.ndarray, *, n_radial: int = 24, n_phi: int = 256) -> float:
    """Flux linkage (Wb per A) of ``source``'s Biot–Savart B through a flat concentric winding.

    radii : turn radii (m) of the receiving winding in its own frame (plane z=0, normal +z);
    frame : 4×4 map from that frame to the source's coordinates. Each point of the disc of radius
    ρ counts the turns with radius > ρ (Gauss–Legendre per annulus between turn radii)."""
    radii = np.sort(np.asarray(radii, float))
    edges = np.concatenate([[0.0], radii])
    x, w = np.polynomial.legendre.leggauss(n_radial)
    pts, wts = [], []
    phi = (np.arange(n_phi) + 0.5) * 2 * np.pi / n_phi
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        rho = 0.5 * (b - a) * x + 0.5 * (b + a)
        weight = 0.5 * (b - a) * w * rho * (2 * np.pi / n_phi) * (len(radii) - k)
        rr, pp = np.meshgrid(rho, phi, indexing="ij")
        pts.append(np.stack([rr * np.cos(pp), rr * np.sin(pp), 0 * rr], -1).reshape(-1, 3))
        wts.append(np.repeat(weight, n_phi))
    p, wt = np.concatenate(pts), np.concatenate(wts)
    rot, shift = frame[:3, :3], frame[:3, 3]
    b = source.b_field(p @ rot.T + shift, method="direct")
    return float(np.sum(wt * (b @ rot[:, 2])))


def figure8_rings(radii, *, wing_angle=0.0, gap=0.002, height=0.004, width=0.0018, segments=64):
    """A figure-8 of separate concentric rings per wing (no crossovers or leads), as a Coil, with
    each wing's Coil and its frame (for flux_mutual)."""
    from tmsfield.coils.builders import wing_transform
    radii = np.asarray(radii, float)
    edge = radii[-1] + 0.5 * width
    wings, frames = [], []
    for side in (-1.0, 1.0):
        ring = ring_coil(radii, np.zeros(len(radii)), segments)
        if side < 0:  # clockwise seen from +z, as figure8_design's left wing
            ring = tf.Coil(segment_starts=ring.segment_ends, segment_ends=ring.segment_starts)
        m = wing_transform(side, edge + 0.5 * gap, gap, np.deg2rad(wing_angle), height)
        wings.append(ring.transformed(m)), frames.append(m)
    both = tf.Coil(segment_starts=np.concatenate([w.segment_starts for w in wings]),
                   segment_ends=np.concatenate([w.segment_ends for w in wings]), name="figure-8 rings")
    return both, wings, frames


def figure8_reference(radii, gmd, *, wing_angle=0.0, **kw) -> tuple[float, float]:
    """(L_total, M_wing_wing) in H: the rings formulae per wing plus twice the flux linkage of the
    left wing's field (its clockwise current) in the right wing (counter-clockwise in its own
    frame, so its positive normal is that frame's +z); M is negative for a figure-8."""
    _, wings, frames = figure8_rings(radii, wing_angle=wing_angle, **kw)
    own = rings_inductance(radii, np.zeros(len(radii)), gmd)
    m = flux_mutual(wings[0], radii, frames[1])
    return 2 * own + 2 * m, m


# --- studies ----------------------------------------------------------------------------------
def loop_study(radius=0.045, wire_radius=0.001, ns=(16, 32, 64, 128, 256, 512)):
    ref = MU0 * radius * (np.log(8 * radius / wire_radius) - 2 + 0.25)
    rows = []
    for n in ns:
        c = ring_coil([radius], [0.0], n)
        L = self_inductance(c, wire_radius=wire_radius)
        rows.append({"segments": n, "L_uH": L * 1e6, "ref_uH": ref * 1e6, "rel_err": L / ref - 1})
    return rows


def multiturn_study(segments=128):
    a = 0.0005
    g = round_wire_gmd(a)
    cases = {"10-turn stack R=45 mm, pitch 2.5 mm": (np.full(10, 0.045), 0.0025 * np.arange(10)),
             "10-turn flat, R=25..45 mm": (np.linspace(0.025, 0.045, 10), np.zeros(10))}
    rows = []
    for label, (r, z) in cases.items():
        L = self_inductance(ring_coil(r, z, segments), wire_radius=a)
        ref = rings_inductance(r, z, g)
        rows.append({"case": label, "segments_per_turn": segments, "L_uH": L * 1e6, "ref_uH": ref * 1e6,
                     "rel_err": L / ref - 1})
    return rows


def cross_section_study(segments=128):
    """One ring of 1.8 × 6 mm strip, R = 35 mm: n×m filaments vs the single-GMD formula."""
    radius, w, h = 0.035, 0.0018, 0.006
    ref = loop_self(radius, rect_gmd(w, h))
    rows = []
    for nw, nh in ((1, 1), (2, 3), (3, 5), (4, 8)):
        ws = WireCrossSection(w, h, n_width=nw, n_height=nh)
        offs, fw, fg = ws.filaments()
        r, z = radius + offs[:, 0], offs[:, 1]
        c = ring_coil(r, z, segments)
        c = tf.Coil(segment_starts=c.segment_starts, segment_ends=c.segment_ends,
                    segment_weights=np.repeat(fw, segments))
        L = self_inductance(c, gmd=np.repeat(fg, segments))
        rows.append({"filaments": f"{nw}x{nh}", "L_uH": L * 1e6, "ref_uH": ref * 1e6, "rel_err": L / ref - 1})
    return rows


def figure8_study(segments=64):
    radii = np.linspace(0.028, 0.0435, 9)
    wire = WireCrossSection(0.0018, 0.006)
    g = rect_gmd(wire.width, wire.height)
    rows = []
    for angle in (0.0, 20.0):
        t0 = time.perf_counter()
        rings, _, _ = figure8_rings(radii, wing_angle=angle, segments=segments)
        L_rings = self_inductance(rings, gmd=g)
        L_ref, M_ref = figure8_reference(radii, g, wing_angle=angle, segments=segments)
        design = figure8_design(radii, wing_angle=angle, wire=wire, segments_per_turn=segments)
        L_design = design.inductance()
        rows.append({"wing_angle_deg": angle, "L_rings_neumann_uH": L_rings * 1e6, "L_ref_uH": L_ref * 1e6,
                     "M_wings_ref_uH": M_ref * 1e6, "rel_err_rings": L_rings / L_ref - 1,
                     "L_design_uH": L_design * 1e6, "design_vs_ref": L_design / L_ref - 1,
                     "seconds": time.perf_counter() - t0})
    return rows


def magstim_line():
    d = figure8_design()
    e = d.electrical()
    return {"L_uH": e.inductance * 1e6, "R_mohm": e.resistance * 1e3, "wire_m": e.wire_length,
            "segments": len(d.coil.segment_starts)}


def _markdown(out: dict) -> str:
    pct = lambda x: f"{100 * x:+.4f} %"
    md = ["# Coil inductance: Neumann segment sums vs independent references", "",
          ("Produced by `.venv/bin/python -m tmsfield.validation.coil_inductance` "
           f"({out['seconds']:.0f} s on 2 shared cores). References: see the module docstring."), "",
          "## Circular loop, R = 45 mm, round wire a = 1 mm, uniform current",
          ("Reference μ0R[ln(8R/a) − 2 + 1/4] (its own error is O((a/R)² ln(8R/a)) ~ 1e-4 here). "
           "Polygons with area-preserving vertices (builders.area_preserving_factor)."), "",
          "| segments | L (µH) | reference (µH) | error |", "|---|---|---|---|"]
    md += [f"| {r['segments']} | {r['L_uH']:.6f} | {r['ref_uH']:.6f} | {pct(r['rel_err'])} |" for r in out["loop"]]
    md += ["", "## Multi-turn circular coils vs Maxwell's coaxial-ring mutual inductance (a = 0.5 mm)", "",
           "| coil | segments/turn | L (µH) | Σ L_i + Σ M_ij (µH) | error |", "|---|---|---|---|---|"]
    md += [f"| {r['case']} | {r['segments_per_turn']} | {r['L_uH']:.5f} | {r['ref_uH']:.5f} | {pct(r['rel_err'])} |"
           for r in out["multiturn"]]
    md += ["", "## Conductor as filaments: ring R = 35 mm of 1.8 × 6 mm strip, 128 segments",
           "Reference: μ0R[ln(8R/g) − 2] with the rectangle's GMD g ≈ 0.2235(w + h) (itself ~0.5 %).", "",
           "| filaments | L (µH) | GMD formula (µH) | difference |", "|---|---|---|---|"]
    md += [f"| {r['filaments']} | {r['L_uH']:.6f} | {r['ref_uH']:.6f} | {pct(r['rel_err'])} |"
           for r in out["cross_section"]]
    md += ["", "## Figure-8: 9 turns/wing, radii 28–43.5 mm, 1.8 × 6 mm strip, 64 segments/turn",
           ("Reference = 2 × (rings: Σ L_i + Σ M_ij, Maxwell) + 2 M_wings, M_wings = flux of the left wing's "
            "Biot–Savart B (tf.Coil.b_field) through the right wing, weighted by enclosed turns (Gauss–Legendre). "
            "'rings' = the same figure-8 built of closed rings in the Neumann code; 'design' = "
            "coils.figure8_design (turns joined by crossovers, return lead above the winding)."), "",
           "| wing angle | M_wings ref (µH) | L ref (µH) | L rings, Neumann (µH) | error | L design (µH) | design vs ref |",
           "|---|---|---|---|---|---|---|"]
    md += [f"| {r['wing_angle_deg']:g}° | {r['M_wings_ref_uH']:.5f} | {r['L_ref_uH']:.5f} | "
           f"{r['L_rings_neumann_uH']:.5f} | {pct(r['rel_err_rings'])} | {r['L_design_uH']:.5f} | "
           f"{pct(r['design_vs_ref'])} |" for r in out["figure8"]]
    m = out["magstim70_like"]
    md += ["", "## Sanity line (not a test): default figure8_design vs the Magstim 70 mm double coil", "",
           (f"Default design (9 turns 28–43.5 mm, 1.8 × 6 mm copper strip, {m['segments']} segments): "
           f"L = {m['L_uH']:.2f} µH, DC resistance {m['R_mohm']:.2f} mΩ, {m['wire_m']:.2f} m of conductor. "
           f"Thin-wire builders.figure8() (spiral, radial return in plane, 1 mm round wire): "
           f"L = {out['builder_figure8_uH']:.2f} µH. The Magstim 70 mm double coil is usually quoted at about "
           "16 µH without its cable (figure from the issue brief; I could not check a primary source from "
           "here, and the real conductor dimensions are not published), so the default design is in the "
           "right range; this is not a validation."), ""]
    return "\n".join(md)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity; the study takes ~1 min")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = {"loop": loop_study(), "multiturn": multiturn_study(), "cross_section": cross_section_study(),
           "figure8": figure8_study(), "magstim70_like": magstim_line(),
           "builder_figure8_uH": self_inductance(tf.coils.figure8(), wire_radius=0.001) * 1e6}
    out["seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "coil_inductance.json", json.dumps(out, indent=1) + "\n")
    write_text_atomic(args.out / "coil_inductance.md", _markdown(out))
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    res = main()
    for key, rows in res.items():
        log.info("%s: %s", key, json.dumps(rows, indent=1))
