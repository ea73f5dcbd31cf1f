"""Convergence study: P1 and P2 FEM on a 3-layer sphere against the analytic field.

Writes validation/results/fem_sphere.{md,json}. Run from the repository root:
``python -m tmsfield.validation.fem_sphere_study`` (``--quick``: coarsest meshes only).

Regions and metrics (E_ref from Heller & van Hulsteyn, exact for any layered sphere):
- shell: element centroids with 60 mm <= r <= 80 mm, plain relative L2 over centroids (the
  metric of the reference figures quoted in the issue tracker);
- inner sphere: all elements with r < 85 mm, volume-weighted relative L2 (≈ the L2 norm);
- interfaces: elements within 2 mm of r = 85 or 90 mm (either side), volume-weighted.
Each region is scored for the element field (FEM solution at the centroid) and for the
recovered field (SPR per tissue, interpolated at the centroid).
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
INTERFACE_BAND = 0.002
EDGE_LENGTHS_MM = {1: (10.0, 8.0, 6.0, 4.0, 3.0), 2: (10.0, 8.0, 6.0, 4.0)}
#: defaults relative to the repository root (the working directory of the study)
SIMNIBS_SPHERE = Path("../shared/data/simnibs/sphere3.msh")
RESULTS = Path("validation/results")


def sources():
    """The dipole sources of the study: name -> (Coil, CoilPose)."""
    tilted = tf.Coil(dipole_positions=[[0.020, 0.010, 0.105]],
                     dipole_moments=[np.array([0.5, 0.3, 1.0]) / np.linalg.norm([0.5, 0.3, 1.0])],
                     name="tilted off-axis dipole")
    identity = tf.CoilPose(np.eye(4))
    fig8 = tf.coils.figure8(model="dipoles", dipole_cell=0.004)  # 4 mm shell cells: ~800 dipoles
    top = tf.CoilPose.from_axes(center=[0, 0, RADII[-1] + 0.004], normal=[0, 0, -1], handle=[0, 1, 0])
    return {"tilted dipole": (tilted, identity), "figure-8 (dipole model)": (fig8, top)}


def regions(head) -> dict[str, tuple[np.ndarray, bool]]:
    """Element masks of the scored regions, and whether each is volume-weighted."""
    r = np.linalg.norm(head.centroids, axis=1)
    near = np.min(np.abs(r[:, None] - np.array(RADII[:2])[None]), axis=1) <= INTERFACE_BAND
    return {"shell": ((r >= SHELL[0]) & (r <= SHELL[1]), False),
            "inner sphere": (r < RADII[0], True),
            "interfaces": (near, True)}


def errors(head, result, coil, pose, didt=1e6) -> dict[str, float]:
    """Relative L2 errors per region, for the element and recovered fields."""
    placed = coil.transformed(pose.matrix)
    ref = sphere_e_field(head.centroids, placed.dipole_positions, placed.dipole_moments, didt)
    recovered = result.E_corners.mean(axis=1)
    out = {}
    for name, (mask, weighted) in regions(head).items():
        w = head.volumes[mask] if weighted else None
        out[f"{name} element"] = relative_l2(result.E[mask], ref[mask], w)
        out[f"{name} recovered"] = relative_l2(recovered[mask], ref[mask], w)
    return out


def shell_errors(head, result, coil, pose, didt=1e6) -> dict[str, float]:
    """Shell errors only: {"element": …, "recovered": …}."""
    err = errors(head, result, coil, pose, didt)
    return {"element": err["shell element"], "recovered": err["shell recovered"]}


def run_mesh(head, label, mesh_time, order, cases):
    rows = []
    t0 = time.perf_counter()
    solver = tf.FieldSolver(head, order=order)
    setup = time.perf_counter() - t0
    for name, (coil, pose) in cases.items():
        t0 = time.perf_counter()
        res = solver.solve(coil, pose, didt=1e6)
        solve = time.perf_counter() - t0
        rows.append({"mesh": label, "order": order, "source": name, "n_tets": head.n_tets,
                     "n_dofs": solver.space.n_dofs, "mean_edge_mm": 1e3 * head.mean_edge_length,
                     "errors": errors(head, res, coil, pose), "mesh_s": mesh_time, "setup_s": setup,
                     "solve_s": solve, "cg_iterations": res.provenance["solver"]["iterations"]})
        e = rows[-1]["errors"]
        print(f"P{order} {label:>12} {name:<24} {head.n_tets:>8} tets h={rows[-1]['mean_edge_mm']:.2f} mm "
              f"shell {e['shell element']:.5f}/{e['shell recovered']:.5f} "
              f"interfaces {e['interfaces element']:.5f}/{e['interfaces recovered']:.5f} "
              f"setup {setup:.1f} s solve {solve:.1f} s", flush=True)
    return rows


def observed_orders(rows, key):
    """Slopes of log error vs log mean edge between successive gmsh meshes, per order and source."""
    out = []
    for order in (1, 2):
        for source in sorted({r["source"] for r in rows}):
            seq = [r for r in rows if r["order"] == order and r["source"] == source and r["mesh"].startswith("gmsh")]
            for a, b in zip(seq, seq[1:]):
                out.append({"order": order, "source": source, "from_mm": a["mean_edge_mm"], "to_mm": b["mean_edge_mm"],
                            "slope": float(np.log(a["errors"][key] / b["errors"][key])
                                           / np.log(a["mean_edge_mm"] / b["mean_edge_mm"]))})
    return out


def tolerance_check(head, cases):
    """Shell element error against the CG tolerance, P1 and P2 (justifies the default)."""
    coil, pose = cases["figure-8 (dipole model)"]
    out = []
    for order in (1, 2):
        for tol in (1e-4, 1e-6, 1e-8, 1e-10):
            res = tf.FieldSolver(head, order=order, tol=tol).solve(coil, pose, didt=1e6)
            out.append({"order": order, "tol": tol, "error": shell_errors(head, res, coil, pose)["element"],
                        "iterations": res.provenance["solver"]["iterations"]})
    return out


def markdown(rows, tol_rows):
    pct = lambda v: f"{100 * v:.3f} %"  # noqa: E731
    lines = ["# P1 and P2 FEM on a 3-layer sphere vs the analytic field (Heller & van Hulsteyn 1992)", "",
             f"Sphere radii {[r * 1e3 for r in RADII]} mm, tags {list(TAGS)} (SimNIBS conductivities 1.654/"
             "0.010/0.465 S/m; the analytic field does not depend on them). dI/dt = 1e6 A/s.",
             "Errors: relative L2 of E. *shell*: element centroids with 60–80 mm radius, unweighted; "
             "*inner*: all elements with r < 85 mm, volume-weighted; *interf.*: elements within 2 mm of "
             "the 85 and 90 mm interfaces, volume-weighted. *elem* = FEM field at the centroid, *rec* = "
             "recovered field (per tissue; P1: SPR, P2: patch mean of the element gradients) linearly "
             "interpolated at the centroid. CG tolerance 1e-10; preconditioner: pyamg smoothed "
             "aggregation (P1), Gauss–Seidel + the same AMG on the P1 subspace (P2). setup = assembly + AMG; "
             "solve = primary field + load vector + CG + E at the centroids, per placement (patch "
             "recovery runs on demand and is not included).",
             f"Machine: {platform.machine()}, 2-core development VM, run {time.strftime('%Y-%m-%d')}; "
             "`python -m tmsfield.validation.fem_sphere_study`.", "",
             "| P | mesh | source | tets | DOFs | mean edge (mm) | shell elem | shell rec | inner elem | inner rec | "
             "interf. elem | interf. rec | setup (s) | solve (s) | CG its |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        e = r["errors"]
        lines.append(f"| {r['order']} | {r['mesh']} | {r['source']} | {r['n_tets']} | {r['n_dofs']} | "
                     f"{r['mean_edge_mm']:.2f} | {pct(e['shell element'])} | {pct(e['shell recovered'])} | "
                     f"{pct(e['inner sphere element'])} | {pct(e['inner sphere recovered'])} | "
                     f"{pct(e['interfaces element'])} | {pct(e['interfaces recovered'])} | {r['setup_s']:.1f} | "
                     f"{r['solve_s']:.1f} | {r['cg_iterations']} |")
    lines += ["", "Observed orders of convergence (slope of log error vs log mean edge; theory for E: "
              "1 for P1, 2 for P2):", "",
              "| P | source | from → to (mm) | shell elem | inner elem | interf. elem | interf. rec |",
              "|---|---|---|---:|---:|---:|---:|"]
    keyed = {k: observed_orders(rows, k) for k in ("shell element", "inner sphere element",
                                                   "interfaces element", "interfaces recovered")}
    for i, o in enumerate(keyed["shell element"]):
        lines.append(f"| {o['order']} | {o['source']} | {o['from_mm']:.1f} → {o['to_mm']:.1f} | " + " | ".join(
            f"{keyed[k][i]['slope']:.2f}" for k in keyed) + " |")
    lines += ["", "CG tolerance vs shell element error (figure-8, coarsest gmsh mesh):", "",
              "| P | tol | error | CG its |", "|---|---:|---:|---:|"]
    lines += [f"| {t['order']} | {t['tol']:.0e} | {100 * t['error']:.4f} % | {t['iterations']} |" for t in tol_rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two coarsest meshes only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--simnibs-sphere", type=Path, default=SIMNIBS_SPHERE,
                        help="SimNIBS sphere3.msh (skipped when absent)")
    args = parser.parse_args(argv)
    cases = sources()
    rows, heads = [], {}
    for order in (1, 2):
        for h_mm in EDGE_LENGTHS_MM[order][:2] if args.quick else EDGE_LENGTHS_MM[order]:
            if h_mm not in heads:
                t0 = time.perf_counter()
                heads[h_mm] = (tf.head_models.concentric_spheres(RADII, TAGS, edge_length=h_mm * 1e-3),
                               time.perf_counter() - t0)
            rows += run_mesh(*heads[h_mm][:1], f"gmsh {h_mm:g} mm", heads[h_mm][1], order, cases)
        if args.simnibs_sphere.is_file():
            rows += run_mesh(tf.load_head(args.simnibs_sphere), "SimNIBS sphere3.msh", 0.0, order, cases)
    tol_rows = tolerance_check(heads[EDGE_LENGTHS_MM[1][0]][0], cases)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "fem_sphere.md", markdown(rows, tol_rows))
    write_text_atomic(args.out / "fem_sphere.json", json.dumps({"rows": rows, "tolerance": tol_rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
