"""Reciprocity and ADM against brute-force FEM solves and the analytic sphere field.

Writes validation/results/reciprocity.{md,json}. Run from the repository root:
``python -m tmsfield.validation.reciprocity_study`` (``--quick``: 12 mm mesh, fewer grids).

Head: 3-layer sphere (85/90/95 mm, tags 3/4/5), P2 FEM. Coils: the figure-8 as magnetic
dipoles (analytic reference available) and as wire segments. Targets: "deep" at r = 70 mm
(25 mm below the scalp, in the inner compartment) and "shallow" at r = 83 mm (12 mm below).

Part A — reciprocity (3 solves per target) vs one brute-force FEM solve per placement on the
same mesh, and both vs the analytic field (Heller & van Hulsteyn 1992), E vector at the target.
Part B — ADM convergence: all handle angles from the polar grid's cross-correlation vs the
direct reciprocity sum over the coil's own elements, per grid size (radii × angles): the
resampling error alone.
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
from tmsfield.optimize import AuxiliaryCoil, PolarGrid, ReciprocityField
from tmsfield.optimize.adm import correlate, rotation_synthesis
from tmsfield.optimize.positions import handle_rotation, scalp_positions
from tmsfield.solver.fem.solver import FEMSolver
from tmsfield.validation.analytic import sphere_e_field

RESULTS = Path("validation/results")
TARGETS = {"deep (25 mm below scalp)": np.array([0.012, 0.0, 0.069]),
           "shallow (12 mm below scalp)": np.array([0.012, 0.0, 0.0822])}
GRIDS = [(5, 11), (7, 15), (9, 21), (13, 31), (17, 41), (25, 61)]
N_POSITIONS, N_POSES = 3, 4
ANGLES = np.deg2rad(np.arange(0.0, 360.0, 10.0))


def part_a(head, solver, field, target, rng):
    rows = []
    positions = scalp_positions(head, target, radius=0.02, n_positions=N_POSES)
    for model in ("dipoles", "wire"):
        coil = tf.coils.figure8(model=model)
        poses = [tf.CoilPose(positions.frames[i] @ handle_rotation(rng.uniform(0, 2 * np.pi))) for i in range(N_POSES)]
        rec = field.evaluate(coil, poses)
        for pose, E_rec in zip(poses, rec):
            E_fem = solver.solve(coil, pose).sample(target[None], interpolation="native")[0]
            row = {"coil": model, "center_mm": (1e3 * pose.center).round(2).tolist(), "E_fem": E_fem.tolist(),
                   "E_rec": E_rec.tolist(), "rec_vs_fem": float(np.linalg.norm(E_rec - E_fem) / np.linalg.norm(E_fem))}
            if model == "dipoles":
                placed = coil.transformed(pose.matrix)
                E_ref = sphere_e_field(target[None], placed.dipole_positions, placed.dipole_moments, 1e6)[0]
                row["fem_vs_analytic"] = float(np.linalg.norm(E_fem - E_ref) / np.linalg.norm(E_ref))
                row["rec_vs_analytic"] = float(np.linalg.norm(E_rec - E_ref) / np.linalg.norm(E_ref))
            rows.append(row)
    return rows


def part_b(head, field, target, grids):
    rows = []
    positions = scalp_positions(head, target, radius=0.02, n_positions=N_POSITIONS)
    for model in ("dipoles", "wire"):
        coil = tf.coils.figure8(model=model)
        poses = [f @ handle_rotation(a) for f in positions.frames for a in ANGLES]
        direct = field.evaluate(coil, np.stack(poses)).reshape(len(positions.frames), len(ANGLES), 3)
        scale = np.linalg.norm(direct, axis=-1).max()
        for n_radii, n_angles in grids:
            grid = PolarGrid.for_coil(coil, n_radii=n_radii, n_angles=n_angles)
            aux = AuxiliaryCoil.from_coil(coil, grid, didt=1e6)
            t0 = time.perf_counter()
            frames = positions.frames
            world = np.einsum("pij,nj->pni", frames[:, :3, :3], grid.nodes().reshape(-1, 3)) + frames[:, None, :3, 3]
            f = field.fields(world.reshape(-1, 3), want="AB")          # one FMM call for all positions
            local = {k: grid.to_local(np.einsum("kpni,pij->kpnj", v.reshape(3, len(frames), -1, 3),
                                                frames[:, :3, :3]).reshape((3, len(frames)) + grid.shape + (3,)))
                     for k, v in f.items()}
            adm = -correlate(aux.spectra(), local, rotation_synthesis(ANGLES, grid.n_angles)).transpose(1, 2, 0)
            err = np.linalg.norm(adm - direct, axis=-1)
            extent = grid.extent
            rows.append({"coil": model, "n_radii": n_radii, "n_angles": n_angles, "nodes": grid.n_nodes,
                         "radial_spacing_mm": 1e3 * extent / n_radii, "arc_at_rim_mm": 1e3 * 2 * np.pi * extent / n_angles,
                         "max_rel": float(err.max() / scale),
                         "rms_rel": float(np.sqrt(np.mean(err**2)) / scale), "seconds": time.perf_counter() - t0})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--edge-mm", type=float, default=None)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    edge = args.edge_mm or (12.0 if args.quick else 8.0)
    grids = GRIDS[:4] if args.quick else GRIDS
    head = tf.head_models.concentric_spheres(edge_length=edge * 1e-3)
    solver = FEMSolver(head, order=2)
    rng = np.random.default_rng(7)
    out = {"edge_mm": edge, "n_tets": head.n_tets, "mean_edge_mm": 1e3 * head.mean_edge_length, "targets": {}}
    for name, target in TARGETS.items():
        field = ReciprocityField(solver, target)
        out["targets"][name] = {"target_mm": (1e3 * target).tolist(), "a": part_a(head, solver, field, target, rng),
                                "b": part_b(head, field, target, grids),
                                "quadrature_points": len(field.currents.points)}
    out["platform"] = platform.platform()
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "reciprocity.json", json.dumps(out, indent=2) + "\n")
    write_text_atomic(args.out / "reciprocity.md", report(out, "python -m tmsfield.validation.reciprocity_study"
                                                         + (" --quick" if args.quick else "")))


def report(out, cmd) -> str:
    lines = ["# Reciprocity and the auxiliary dipole method vs brute-force FEM", "",
             (f"`{cmd}` on {out['platform']}. Head: 3-layer sphere (85/90/95 mm), P2 FEM, target edge "
             f"{out['edge_mm']:g} mm ({out['n_tets']} tetrahedra, mean edge {out['mean_edge_mm']:.2f} mm). "
             "Coil: figure-8 (dipole model and wire model), dI/dt 1e6 A/s, 4 mm above the scalp, positions within "
             "20 mm of the target's scalp point, random handle angles. Errors are ‖ΔE‖/‖E‖ of the E vector at "
             "the target."), "",
             "## A. Reciprocity vs brute force (same mesh) and vs the analytic field", "",
             ("Reciprocity: 3 FEM solves with a point current dipole at the target (load vector p·∇N_k(r0), the "
             "exact adjoint of evaluating the FEM field at r0), Biot–Savart of the volume currents over 4 "
             "quadrature points per tetrahedron (FMM), paired with the coil's dipoles (B) or wire segments (A). "
             "Brute force: one full FEM solve per placement, field sampled in the target's element."), "",
             ("| target | coil | placement centre (mm) | reciprocity vs FEM solve | FEM solve vs analytic | "
             "reciprocity vs analytic |"), "|---|---|---|---:|---:|---:|"]
    for name, t in out["targets"].items():
        for r in t["a"]:
            fa = f"{100 * r['fem_vs_analytic']:.3f} %" if "fem_vs_analytic" in r else "–"
            ra = f"{100 * r['rec_vs_analytic']:.3f} %" if "rec_vs_analytic" in r else "–"
            lines.append(f"| {name} | {r['coil']} | {r['center_mm']} | {100 * r['rec_vs_fem']:.3f} % | {fa} | {ra} |")
    lines += ["", ("What limits the agreement: in exact arithmetic the reciprocal value *equals* the FEM field at r0 "
              "(the dipole load vector is the transpose of the point evaluation), except that (i) the coil solve "
              "interpolates ∂A/∂t in P2 while reciprocity integrates the exact coil potential, and (ii) the "
              "Biot–Savart volume integral is a 4-point rule per tetrahedron, least accurate for scalp elements a "
              "few mm below the coil. Both shrink with the mesh size; against the analytic field both methods "
              "carry the same P2 discretisation error near r0 (the point source is singular there)."), "",
              "## B. ADM resampling vs the coil's own elements (all handle angles)", "",
              (f"{N_POSITIONS} positions × {len(ANGLES)} handle angles (10° steps) per target; error = max (or RMS) over "
              "the placements of ‖E_ADM − E_direct‖ / max‖E_direct‖ — the resampling alone, both on the same "
              "reciprocal field. Grid: Gauss–Legendre radii on [0, R] (R = 87 mm, the coil's reach) × equispaced "
              "angles (trigonometric interpolation) × one height (flat coil)."), "",
              ("| target | coil | radii × angles | nodes | radial spacing (mm) | arc at the rim (mm) | max error | "
              "RMS error |"), "|---|---|---|---:|---:|---:|---:|---:|"]
    for name, t in out["targets"].items():
        for r in t["b"]:
            lines.append(f"| {name} | {r['coil']} | {r['n_radii']} × {r['n_angles']} | {r['nodes']} | "
                         f"{r['radial_spacing_mm']:.1f} | {r['arc_at_rim_mm']:.1f} | {r['max_rel']:.2e} | "
                         f"{r['rms_rel']:.2e} |")
    lines += ["", ("The default grid (`PolarGrid.for_coil`: 17 radii × 41 angles = 697 nodes; cf. 578 in SimNIBS' "
              "ADM) keeps the resampling error far below the FEM/reciprocity differences of part A."), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
