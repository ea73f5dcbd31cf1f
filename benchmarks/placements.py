"""Placement-search benchmark: reciprocity + ADM evaluations per second vs brute-force FEM solves.

Writes benchmarks/results/placements.{md,json}. Run from the repository root:
``python benchmarks/placements.py`` (``--quick``: fewer positions). Head: the Wakeman & Henson
subject-1 three-shell model (../shared/data/heads/wh_sub01_3shell) tetrahedralised with
gmsh's default sizes (as validation/bem_fem_head.py), P2 FEM; the sphere head (6 mm) where
the data are absent. Target: the cortex vertex nearest to 35 mm left of the highest one and
5 mm down (a motor-like spot); coil: the wire figure-8. Each case runs in its own process
(peak RSS its own). Baseline, same process: one full FEM solve per placement (primary field,
CG, field at the target), timed on a few placements of the search; those placements are also
the accuracy check (ADM prediction vs the solve). No GPU on the development machine.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import common
import numpy as np

DATA = Path("../shared/data/heads/wh_sub01_3shell/hbf_samplehead_3shell_wh.mat")
OUT = Path("benchmarks/results")
CASES = [(400, 1.0), (100, 1.0)]
QUICK = [(50, 5.0)]
N_BASELINE = 3


def build_head():
    """(head, target (3,) m, label)."""
    import tmsfield as tf
    if DATA.is_file():
        sys.path.insert(0, ".")
        from validation.bem_fem_head import TAGS, load
        surfaces, cortex = load(DATA)
        head = tf.head_models.from_surfaces(surfaces, tags=TAGS)
        top = cortex[np.argmax(cortex[:, 2])]
        target = cortex[np.argmin(np.linalg.norm(cortex - (top + [-0.035, 0.0, -0.005]), axis=1))]
        return head, target, "wh_sub01 3-shell (gmsh default sizes)"
    head = tf.head_models.concentric_spheres(edge_length=0.006)
    return head, np.array([-0.02, 0.01, 0.075]), "3-layer sphere 6 mm (wh_sub01 data absent)"


def case(n_positions: int, step: float) -> dict:
    import tmsfield as tf
    from tmsfield.optimize import ReciprocityField
    from tmsfield.optimize.positions import handle_rotation
    from tmsfield.solver.fem.solver import FEMSolver
    t0 = time.perf_counter()
    head, target, label = build_head()
    t_mesh = time.perf_counter() - t0
    t0 = time.perf_counter()
    solver = FEMSolver(head, order=2)
    t_fem = time.perf_counter() - t0
    coil = tf.coils.figure8()
    res = tf.optimize_placement(head, coil, target, solver=solver, n_positions=n_positions, radius=0.025,
                                angle_step_deg=step, verbose=False)
    t = res.timings
    # baseline: brute-force solves on the first placements of the search (angle 0) — timed and
    # compared with the ADM values there
    base = []
    for p in range(N_BASELINE):
        pose = tf.CoilPose(res.positions.frames[p] @ handle_rotation(0.0))
        t1 = time.perf_counter()
        E = solver.solve(coil, pose).sample(target[None], interpolation="native")[0]
        base.append((time.perf_counter() - t1, float(np.linalg.norm(E)), float(res.values[p, 0])))
    # the same field without the ADM: direct reciprocity over the coil's own elements
    rf = ReciprocityField(solver, target)
    t1 = time.perf_counter()
    rf.evaluate(coil, [tf.CoilPose(res.positions.frames[p]) for p in range(N_BASELINE)])
    t_direct = (time.perf_counter() - t1) / N_BASELINE
    solve_s = float(np.mean([b[0] for b in base]))
    n_eval = res.n_evaluations
    setup = t["reciprocal solves"] + t["volume currents"] + t["grid fields"]
    return {"head": label, "n_tets": head.n_tets, "n_dofs": solver.space.n_dofs, "n_positions": n_positions,
            "n_angles": len(res.angles), "n_evaluations": n_eval, "mesh_s": t_mesh, "fem_setup_s": t_fem,
            "reciprocal_solves_s": t["reciprocal solves"],
            "volume_currents_s": t["volume currents"], "grid_fields_s": t["grid fields"],
            "rotations_s": t["rotations"], "setup_s": setup,
            "evals_per_s": n_eval / t["rotations"], "evals_per_s_incl_grid_fields": n_eval / (t["grid fields"] + t["rotations"]),
            "evals_per_s_incl_setup": n_eval / (setup + t["rotations"]),
            "brute_force_solve_s": solve_s, "brute_force_evals_per_s": 1.0 / solve_s,
            "direct_reciprocity_s_per_placement": t_direct,
            "speedup_vs_brute_force": (n_eval / t["rotations"]) * solve_s,
            "speedup_incl_setup": (n_eval / (setup + t["rotations"])) * solve_s,
            "baseline_rel_diff": [abs(b[2] - b[1]) / b[1] for b in base],
            "winner_rel_diff_adm": res.verification["rel_diff_adm"],
            "winner_rel_diff_direct": res.verification["rel_diff_direct"],
            "winner_value_V_per_m": float(res.values[res.best]), "winner_matsimnibs_mm": res.matsimnibs.tolist(),
            "grid": res.provenance["grid"], "fmm_eps": res.provenance["fmm_eps"],
            "quadrature_points": len(rf.currents.points), "peak_rss_gb": common.peak_rss_gb()}


def write(rows, cmd):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "placements.json").write_text(json.dumps({"machine": common.machine(), "command": cmd, "cases": rows},
                                                    indent=2) + "\n")
    r0 = rows[0]
    lines = ["# Placement search: reciprocity + ADM vs brute-force FEM", "",
             (f"Machine: {common.machine()} (shared with other jobs: timings are indicative); "
             f"{datetime.date.today()}; `{cmd}`. GPU: none on this machine — no GPU column measured."), "",
             (f"Head: {r0['head']}, {r0['n_tets']} tetrahedra, P2 ({r0['n_dofs']} DOFs). Coil: figure-8 wire model "
             "(2 Gauss points per segment), dI/dt 1e6 A/s, 4 mm from the scalp; |E| at the target (3 reciprocal "
             f"solves); positions in a 25 mm disc; ADM grid {r0['grid']} (radii × angles × heights); "
             f"FMM eps {r0['fmm_eps']}; Biot–Savart over {r0['quadrature_points']} quadrature points."), "",
             ("setup = 3 reciprocal P2 solves + volume currents + reciprocal fields on every position's grid (FMM); "
             "evaluation = the per-position cross-correlations (all handle angles). Baseline = one full FEM solve per "
             "placement (primary field, CG, field at the target), same run."), "",
             ("| positions × angles | evaluations | FEM setup (s) | reciprocal solves (s) | grid fields (s) | "
             "rotations (s) | evals/s after setup | evals/s incl. grid fields | evals/s incl. all setup | "
             "brute-force solve (s) | speed-up after setup | speed-up incl. setup | peak RSS (GB) | GPU |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['n_positions']} × {r['n_angles']} | {r['n_evaluations']} | {r['fem_setup_s']:.1f} | "
                     f"{r['reciprocal_solves_s']:.1f} | {r['grid_fields_s']:.1f} | {r['rotations_s']:.3f} | "
                     f"{r['evals_per_s']:.3g} | {r['evals_per_s_incl_grid_fields']:.3g} | "
                     f"{r['evals_per_s_incl_setup']:.3g} | {r['brute_force_solve_s']:.2f} | "
                     f"{r['speedup_vs_brute_force']:.3g}× | {r['speedup_incl_setup']:.3g}× | {r['peak_rss_gb']:.2f} | "
                     "not measured (no GPU) |")
    lines += ["", "Accuracy in the same run (|E| at the target, ADM vs the full FEM solve of that placement):", ""]
    for r in rows:
        lines.append(f"- {r['n_positions']} positions: baseline placements "
                     + ", ".join(f"{100 * d:.3f} %" for d in r["baseline_rel_diff"])
                     + f"; winner (verification solve) ADM {100 * r['winner_rel_diff_adm']:.3f} %, direct reciprocity "
                       f"{100 * r['winner_rel_diff_direct']:.3f} %; winner |E| {r['winner_value_V_per_m']:.4f} V/m.")
    lines += ["", ("Direct reciprocity (the coil's own elements, no ADM): "
              f"{rows[0]['direct_reciprocity_s_per_placement']:.2f} s per placement (one FMM call with the head's "
              "quadrature points as sources) — the ADM's grids are what make many angles cheap."), ""]
    (OUT / "placements.md").write_text("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--case", nargs=2)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(case(int(args.case[0]), float(args.case[1]))))
        return
    rows = [r for r in (common.run_case(__file__, n, s) for n, s in (QUICK if args.quick else CASES)) if r]
    if rows:
        write(rows, "python benchmarks/placements.py" + (" --quick" if args.quick else ""))
        print((OUT / "placements.md").read_text())


if __name__ == "__main__":
    main()
