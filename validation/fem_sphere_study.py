"""Convergence study: P1 FEM on a 3-layer sphere against the analytic field.

Writes validation/results/fem_sphere_p1.{md,json}. Run from the repository root:
``python -m tmsfield.validation.fem_sphere_study``
(``--quick`` for the two coarsest meshes only). Error metric: relative L2 of E over element
centroids (and, for the recovered nodal field, over nodes) with 60 mm <= r <= 80 mm.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.validation.analytic import relative_l2, sphere_e_field

RADII = (0.085, 0.090, 0.095)
TAGS = (3, 4, 5)
SHELL = (0.060, 0.080)
EDGE_LENGTHS_MM = (10.0, 8.0, 6.0, 4.0, 3.0)
#: defaults relative to the repository root (the working directory of the study)
SIMNIBS_SPHERE = Path("../shared/data/simnibs/sphere3.msh")
RESULTS = Path("validation/results")


def sources():
    """The dipole sources of the study: name -> (Coil, CoilPose)."""
    tilted = tf.Coil(dipole_positions=[[0.020, 0.010, 0.105]],
                     dipole_moments=[np.array([0.5, 0.3, 1.0]) / np.linalg.norm([0.5, 0.3, 1.0])],
                     name="tilted off-axis dipole")
    identity = tf.CoilPose(np.eye(4))
    fig8 = tf.coils.figure8(model="dipoles")
    top = tf.CoilPose.from_axes(center=[0, 0, RADII[-1] + 0.004], normal=[0, 0, -1], handle=[0, 1, 0])
    return {"tilted dipole": (tilted, identity), "figure-8 (dipole model)": (fig8, top)}


def shell_errors(head, result, coil, pose, didt=1e6):
    """Relative L2 errors of element and nodal E in the 60–80 mm shell."""
    placed = coil.transformed(pose.matrix)
    out = {}
    for key, points, field in (("element", head.centroids, result.E), ("nodal", head.nodes, result.E_nodes)):
        r = np.linalg.norm(points, axis=1)
        sel = (r >= SHELL[0]) & (r <= SHELL[1])
        ref = sphere_e_field(points[sel], placed.dipole_positions, placed.dipole_moments, didt)
        out[key] = relative_l2(field[sel], ref)
    return out


def run_mesh(head, label, mesh_time, cases):
    rows = []
    t0 = time.perf_counter()
    solver = tf.FieldSolver(head)
    setup = time.perf_counter() - t0
    for name, (coil, pose) in cases.items():
        t0 = time.perf_counter()
        res = solver.solve(coil, pose, didt=1e6)
        solve = time.perf_counter() - t0
        err = shell_errors(head, res, coil, pose)
        rows.append({"mesh": label, "source": name, "n_tets": head.n_tets,
                     "mean_edge_mm": 1e3 * head.mean_edge_length, "error_element": err["element"],
                     "error_nodal": err["nodal"], "mesh_s": mesh_time, "setup_s": setup, "solve_s": solve,
                     "cg_iterations": res.provenance["solver"]["iterations"]})
        print(f"{label:>12} {name:<24} {head.n_tets:>8} tets  h={rows[-1]['mean_edge_mm']:.2f} mm  "
              f"elem {err['element']:.4f}  nodal {err['nodal']:.4f}  solve {solve:.1f} s", flush=True)
    return rows


def observed_orders(rows):
    """log(e_i/e_{i+1}) / log(h_i/h_{i+1}) between successive gmsh meshes, per source."""
    orders = {}
    for source in {r["source"] for r in rows}:
        seq = [r for r in rows if r["source"] == source and r["mesh"].startswith("gmsh")]
        orders[source] = [
            {"from_mm": a["mean_edge_mm"], "to_mm": b["mean_edge_mm"],
             "element": np.log(a["error_element"] / b["error_element"]) / np.log(a["mean_edge_mm"] / b["mean_edge_mm"]),
             "nodal": np.log(a["error_nodal"] / b["error_nodal"]) / np.log(a["mean_edge_mm"] / b["mean_edge_mm"])}
            for a, b in zip(seq, seq[1:])]
    return orders


def tolerance_check(head, cases):
    """Element error against the CG tolerance on one mesh (justifies the default)."""
    coil, pose = cases["figure-8 (dipole model)"]
    out = []
    for tol in (1e-4, 1e-6, 1e-8, 1e-10):
        res = tf.FieldSolver(head, tol=tol).solve(coil, pose, didt=1e6)
        out.append({"tol": tol, "error_element": shell_errors(head, res, coil, pose)["element"],
                    "iterations": res.provenance["solver"]["iterations"]})
    return out


def markdown(rows, orders, tol_rows):
    lines = ["# P1 FEM on a 3-layer sphere vs the analytic field (Heller & van Hulsteyn 1992)", "",
             f"Sphere radii {[r * 1e3 for r in RADII]} mm, tags {list(TAGS)} (SimNIBS conductivities 1.654/"
             "0.010/0.465 S/m; the analytic field does not depend on them). dI/dt = 1e6 A/s.",
             "Error = ‖E − E_ref‖/‖E_ref‖ over element centroids (element field) or nodes (recovered",
             f"nodal field) with {SHELL[0] * 1e3:.0f} mm ≤ r ≤ {SHELL[1] * 1e3:.0f} mm. CG tolerance 1e-10, "
             "pyamg smoothed-aggregation preconditioner.",
             f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, run {time.strftime('%Y-%m-%d')}; "
             "produced by `python -m tmsfield.validation.fem_sphere_study`.", "",
             "| mesh | source | tetrahedra | mean edge (mm) | error E (elements) | error E (nodal) | mesh (s) | setup (s) | solve (s) | CG its |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['mesh']} | {r['source']} | {r['n_tets']} | {r['mean_edge_mm']:.2f} | "
                     f"{100 * r['error_element']:.2f} % | {100 * r['error_nodal']:.2f} % | {r['mesh_s']:.1f} | "
                     f"{r['setup_s']:.1f} | {r['solve_s']:.1f} | {r['cg_iterations']} |")
    lines += ["", "Observed orders of convergence (slope of log error vs log mean edge; P1 theory: E = −∇φ",
              "converges as O(h), so the expected order is 1):", ""]
    for source, seq in orders.items():
        parts = [f"{o['from_mm']:.1f}→{o['to_mm']:.1f} mm: element {o['element']:.2f}, nodal {o['nodal']:.2f}" for o in seq]
        lines.append(f"- {source}: " + "; ".join(parts))
    if tol_rows:
        lines += ["", "CG tolerance vs element error (figure-8, coarsest gmsh mesh):", "",
                  "| tol | error | CG its |", "|---:|---:|---:|"]
        lines += [f"| {t['tol']:.0e} | {100 * t['error_element']:.4f} % | {t['iterations']} |" for t in tol_rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two coarsest meshes only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--simnibs-sphere", type=Path, default=SIMNIBS_SPHERE,
                        help="SimNIBS sphere3.msh (skipped when absent)")
    args = parser.parse_args(argv)
    cases = sources()
    rows, first_head = [], None
    for h_mm in EDGE_LENGTHS_MM[:2] if args.quick else EDGE_LENGTHS_MM:
        t0 = time.perf_counter()
        head = tf.head_models.concentric_spheres(RADII, TAGS, edge_length=h_mm * 1e-3)
        first_head = first_head or head
        rows += run_mesh(head, f"gmsh {h_mm:g} mm", time.perf_counter() - t0, cases)
    if args.simnibs_sphere.is_file():
        head = tf.load_head(args.simnibs_sphere)
        rows += run_mesh(head, "SimNIBS sphere3.msh", 0.0, cases)
    tol_rows = tolerance_check(first_head, cases)
    orders = observed_orders(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "fem_sphere_p1.md", markdown(rows, orders, tol_rows))
    write_text_atomic(args.out / "fem_sphere_p1.json",
                      json.dumps({"rows": rows, "orders": orders, "tolerance": tol_rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
