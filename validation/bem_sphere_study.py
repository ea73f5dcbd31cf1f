"""Convergence study: charge-based BEM on a 3-layer sphere against the analytic field.

Writes validation/results/bem_sphere.{md,json}. Run from the repository root:
``python -m tmsfield.validation.bem_sphere_study`` (``--quick``: the two coarsest meshes).
``--parameters`` instead measures the solver's constants (near-field factor, FMM precision,
GMRES tolerance, ILU preconditioner) on the 8 mm sphere surfaces and writes
validation/results/bem_parameters.md.

Surfaces: gmsh-triangulated spheres of radius 85/90/95 mm (tags 3/4/5, SimNIBS
conductivities; the analytic field does not depend on them, the BEM does). Sources: the FEM
study's tilted dipole and figure-8 dipole-model coil 4 mm above the scalp. Metric: relative L2
error of E against Heller & van Hulsteyn at ≈4000 quasi-uniform (Fibonacci) points on spheres
of radius 70, 80 and 84 mm (the last 1 mm inside the innermost interface).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.head_models.spheres import sphere_surfaces
from tmsfield.solver.bem import charge_field, integrals
from tmsfield.solver.options import BEMOptions
from tmsfield.validation.analytic import relative_l2, sphere_e_field
from tmsfield.validation.fem_sphere_study import RADII, TAGS, sources

EDGE_LENGTHS_MM = (10.0, 8.0, 6.0, 4.0, 3.0)
EVAL_RADII_MM = (70.0, 80.0, 84.0)
N_POINTS = 4000
DIDT = 1e6
RESULTS = Path("validation/results")
#: parameter study: mesh, and the values tried
PARAM_EDGE_MM = 8.0
NEAR_FACTORS = (1.5, 2.0, 3.0, 5.0)
FMM_EPSS = (1e-2, 1e-3, 1e-4, 1e-6)
TOLERANCES = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
REFERENCE_TOL = 1e-10
#: the solver's settings (each variant below builds its solver with BEMOptions; nothing global changes)
DEFAULTS = BEMOptions()
#: (c): GMRES restart cycles (of DEFAULTS.restart iterations) before a tolerance counts as unreachable
TOL_MAX_RESTARTS = 5
REPEATS = 5
#: (d): solves per configuration (the fastest is reported)
SOLVE_REPEATS = 3
#: (e): mesh and (label, near factor, FMM eps) variants
FINE_EDGE_MM = 4.0
#: (d): a second mesh, above DEFAULTS.dense_max_facets (FMM far field)
ILU_FMM_EDGE_MM = 6.0
FINE_VARIANTS = (("defaults", 2.0, 1e-3), ("FMM eps 1e-6", 2.0, 1e-6), ("near factor 3", 3.0, 1e-3),
                 ("near factor 3, eps 1e-6", 3.0, 1e-6))


# --- helpers -----------------------------------------------------------------------------
def fibonacci_sphere(radius: float, n: int = N_POINTS) -> np.ndarray:
    """n quasi-uniform points (n, 3) on a sphere of ``radius`` about the origin."""
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (3 - np.sqrt(5)) * i
    rho = np.sqrt(1 - z * z)
    return radius * np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference(points, coil, pose):
    placed = coil.transformed(pose.matrix)
    return sphere_e_field(points, placed.dipole_positions, placed.dipole_moments, DIDT)


def surfaces(h_mm: float, **kw):
    """Interfaces of the 3-layer sphere at edge length h_mm, and the meshing time."""
    t0 = time.perf_counter()
    surf = tf.solver.bem.Interfaces.from_surfaces(sphere_surfaces(RADII, edge_length=h_mm * 1e-3), tags=TAGS,
                                                  name=f"spheres {h_mm:g} mm")
    return surf, time.perf_counter() - t0


def provenance(command: str) -> dict:
    from importlib.metadata import version
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                    text=True, check=True).stdout.strip())
        commit += " (+ uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"command": command, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": platform.machine(),
            "cpu": cpu, "cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                                                 * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "numpy": np.__version__, "scipy": version("scipy"),
            "fmm3dpy": version("fmm3dpy"), "commit": commit,
            "options": DEFAULTS.as_dict()}


def header_lines(prov: dict) -> list[str]:
    return [f"Machine: {prov['machine']}, {prov['cpu']}, {prov['cpus']} cores shared with other jobs (timings "
            f"are indicative), {prov['memory_gb']} GB; Python {prov['python']}, numpy {prov['numpy']}, scipy "
            f"{prov['scipy']}, fmm3dpy {prov['fmm3dpy']}; commit {prov['commit']}; run {prov['date']}; "
            f"`{prov['command']}`."]


# --- the convergence study ---------------------------------------------------------------
def run_mesh(h_mm, cases, points) -> list[dict]:
    surf, mesh_s = surfaces(h_mm)
    t0 = time.perf_counter()
    solver = tf.solver.bem.BEMSolver(surf)
    setup_s = time.perf_counter() - t0
    rows = []
    edges = np.linalg.norm(surf.corners - np.roll(surf.corners, 1, axis=1), axis=2)
    for name, (coil, pose) in cases.items():
        t0 = time.perf_counter()
        res = solver.solve(coil, pose, didt=DIDT)
        call_s = time.perf_counter() - t0
        errors, eval_s = {}, {}
        for r_mm, pts in points.items():
            t0 = time.perf_counter()
            E = res.sample(pts)
            eval_s[r_mm] = time.perf_counter() - t0
            errors[r_mm] = relative_l2(E, reference(pts, coil, pose))
        s = res.provenance["solver"]
        rows.append({"edge_length_mm": h_mm, "source": name, "n_facets": surf.n_facets,
                     "mean_edge_mm": 1e3 * surf.mean_edge_length, "edge_cv": float(edges.std() / edges.mean()),
                     "far_field": s["far_field"],
                     "near_pairs": int(solver.charges.near_matrix.nnz), "errors": errors, "mesh_s": mesh_s,
                     "setup_s": setup_s, "near_field_s": solver.timings["near field"],
                     "far_field_s": solver.timings["far field"],
                     "preconditioner_s": solver.timings["preconditioner"],
                     "primary_s": res.timings["primary field"], "solve_s": res.timings["solve"], "call_s": call_s,
                     "iterations": s["iterations"], "residual": s["residual"], "eval_s": eval_s,
                     "peak_rss_mb": peak_rss_mb()})
        r = rows[-1]
        print(f"{h_mm:>4g} mm {name:<24} {surf.n_facets:>6} facets h={r['mean_edge_mm']:.2f} mm "
              + " ".join(f"{k:g}mm {100 * v:.3f}%" for k, v in errors.items())
              + f" setup {setup_s:.1f}s (near {r['near_field_s']:.1f} far {r['far_field_s']:.1f} "
              f"ilu {r['preconditioner_s']:.1f}) solve {r['solve_s']:.1f}s (call {call_s:.1f}s) its {r['iterations']} "
              f"eval {sum(eval_s.values()):.1f}s rss {r['peak_rss_mb']:.0f} MB", flush=True)
    return rows


def observed_orders(rows) -> list[dict]:
    """Slopes of log error vs log mean edge between successive meshes, per source and radius."""
    out = []
    for source in dict.fromkeys(r["source"] for r in rows):
        seq = [r for r in rows if r["source"] == source]
        for a, b in itertools.pairwise(seq):
            out.append({"source": source, "from_mm": a["mean_edge_mm"], "to_mm": b["mean_edge_mm"],
                        "slopes": {k: float(np.log(a["errors"][k] / b["errors"][k])
                                            / np.log(a["mean_edge_mm"] / b["mean_edge_mm"])) for k in a["errors"]}})
    return out


def study_markdown(prov, rows, orders, total_s) -> str:
    pct = lambda v: f"{100 * v:.3f} %"
    lines = ["# Charge-based BEM on a 3-layer sphere vs the analytic field (Heller & van Hulsteyn 1992)", "",
             f"Surfaces: gmsh-triangulated spheres of radius {[r * 1e3 for r in RADII]} mm, compartments tagged "
             f"{list(TAGS)} (SimNIBS conductivities 1.654/0.010/0.465 S/m, air outside; the analytic field does "
             "not depend on them). Sources: the tilted off-axis dipole and the figure-8 dipole model 4 mm above "
             f"the scalp of validation/fem_sphere_study.py; dI/dt = {DIDT:g} A/s. Default solver settings "
             f"(near factor {DEFAULTS.near_factor:g}, near-field rows averaged over "
             f"{DEFAULTS.near_rule} point(s) per facet, GMRES tol {DEFAULTS.tol:g}, ILU "
             f"preconditioner, far field dense float32 up to {DEFAULTS.dense_max_facets} facets, FMM eps "
             f"{DEFAULTS.fmm_eps:g} above).",
             f"Errors: relative L2 of the total E at {N_POINTS} Fibonacci points on spheres of radius "
             f"{', '.join(f'{r:g}' for r in EVAL_RADII_MM)} mm (84 mm: 1 mm inside the innermost interface). "
             "edge CV: standard deviation / mean of the facet edge lengths (mesh regularity). "
             "setup = BEMSolver(): near field (exact integrals of the near pairs) + far field (dense matrix; "
             "nothing to build for the FMM) + ILU; GMRES = the solve stage per placement (res.timings['solve']); "
             "solve() = wall time of the whole solver.solve call (placement check, primary field at the "
             "centroids, GMRES); eval = res.sample at all 3×4000 points. Peak RSS is the process peak so far "
             "(monotone over the rows).",
             *header_lines(prov), f"Total run time {total_s / 60:.1f} min.", "",
             "| mesh | source | facets | mean edge (mm) | edge CV | far field | 70 mm | 80 mm | 84 mm | near (s) | "
             "far (s) | ILU (s) | GMRES (s) | GMRES its | solve() (s) | eval (s) | peak RSS (MB) |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        e = r["errors"]
        lines.append(f"| {r['edge_length_mm']:g} mm | {r['source']} | {r['n_facets']} | {r['mean_edge_mm']:.2f} | "
                     f"{r['edge_cv']:.3f} | {r['far_field']} | {pct(e[70.0])} | {pct(e[80.0])} | {pct(e[84.0])} | "
                     f"{r['near_field_s']:.1f} | {r['far_field_s']:.1f} | {r['preconditioner_s']:.1f} | "
                     f"{r['solve_s']:.1f} | {r['iterations']} | {r['call_s']:.1f} | {sum(r['eval_s'].values()):.1f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    lines += ["", "Observed orders of convergence (log error ratio / log mean-edge ratio between successive "
              "meshes):", "", "| source | from → to (mm) | 70 mm | 80 mm | 84 mm |", "|---|---|---:|---:|---:|"]
    for o in orders:
        lines.append(f"| {o['source']} | {o['from_mm']:.2f} → {o['to_mm']:.2f} | "
                     + " | ".join(f"{o['slopes'][k]:.2f}" for k in EVAL_RADII_MM) + " |")
    finest = [r for r in rows if r["edge_length_mm"] == min(r["edge_length_mm"] for r in rows)]
    worst = max(r["errors"][70.0] for r in finest)
    lines += ["", f"Finest mesh (mean edge {finest[0]['mean_edge_mm']:.2f} mm): largest 70 mm error {pct(worst)} "
              f"({'below' if worst < 0.01 else 'NOT below'} 1 %)."]
    return "\n".join(lines) + "\n"


def study(args, command):
    t_start = time.perf_counter()
    prov = provenance(command)
    cases = sources()
    points = {r: fibonacci_sphere(r * 1e-3) for r in EVAL_RADII_MM}
    rows = []
    for h_mm in EDGE_LENGTHS_MM[:2] if args.quick else EDGE_LENGTHS_MM:
        rows += run_mesh(h_mm, cases, points)
    orders = observed_orders(rows)
    total = time.perf_counter() - t_start
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "bem_sphere.md", study_markdown(prov, rows, orders, total))
    for r in rows:  # JSON keys: radii as strings
        r["errors"] = {f"{k:g} mm": v for k, v in r["errors"].items()}
        r["eval_s"] = {f"{k:g} mm": v for k, v in r["eval_s"].items()}
    for o in orders:
        o["slopes"] = {f"{k:g} mm": v for k, v in o["slopes"].items()}
    write_text_atomic(args.out / "bem_sphere.json", json.dumps(
        {"provenance": prov, "total_s": total, "eval_radii_mm": list(EVAL_RADII_MM), "n_points": N_POINTS,
         "rows": rows, "orders": orders}, indent=2) + "\n")


# --- the parameter study -----------------------------------------------------------------
def exact_normal_matrix(surf) -> np.ndarray:
    """(K, K) n_i·E at centroid i per unit density on facet j, every pair by the exact
    integrals (solver/bem/integrals.py), self term zero (the principal value)."""
    c, n, corners, k = surf.centroids, surf.normals, surf.corners, surf.n_facets
    out = np.empty((k, k))
    block = max(1, (1 << 19) // k)

    def rows(i):
        sl = slice(i, min(i + block, k))
        m = sl.stop - sl.start
        pts = np.repeat(c[sl], k, axis=0)
        field = integrals.field(np, pts, np.tile(corners, (m, 1, 1)))
        out[sl] = np.einsum("pki,pi->pk", field.reshape(m, k, 3), n[sl]) / (4 * np.pi)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(rows, range(0, k, block)))
    np.fill_diagonal(out, 0.0)
    return out


def field_error(res, coil, pose, radius_mm=70.0):
    pts = fibonacci_sphere(radius_mm * 1e-3)
    return relative_l2(res.sample(pts), reference(pts, coil, pose))


def sample_change(a, b, radius_mm=70.0):
    pts = fibonacci_sphere(radius_mm * 1e-3)
    return relative_l2(a.sample(pts), b.sample(pts))


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def per_application(op, rho, repeats=REPEATS):
    """Fastest of ``repeats`` calls op(rho) after a warm-up (the least disturbed by other jobs)."""
    op(rho)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        op(rho)
        times.append(time.perf_counter() - t0)
    return min(times)


def parameters(args, command):
    t_start = time.perf_counter()
    prov = provenance(command)
    cases = sources()
    coil, pose = cases["figure-8 (dipole model)"]
    surf, _ = surfaces(PARAM_EDGE_MM)
    print(f"{surf.n_facets} facets, mean edge {1e3 * surf.mean_edge_length:.2f} mm", flush=True)
    base = tf.solver.bem.BEMSolver(surf, far_field="dense")
    base_res = base.solve(coil, pose, didt=DIDT)
    rho = base_res.density
    rng = np.random.default_rng(0)
    rough = rng.standard_normal(surf.n_facets)
    out = {"n_facets": surf.n_facets, "mean_edge_mm": 1e3 * surf.mean_edge_length}

    # (a) near-field factor
    t0 = time.perf_counter()
    exact = exact_normal_matrix(surf)
    out["reference_s"] = time.perf_counter() - t0
    print(f"all-exact reference: {out['reference_s']:.0f} s", flush=True)
    ref_smooth, ref_rough = exact @ rho, exact @ rough
    del exact
    near_rows = []
    for f in NEAR_FACTORS:
        cf = charge_field.ChargeField(surf, near_factor=f, far_field="dense")
        t0 = time.perf_counter()
        nnz = cf.near_matrix.nnz
        near_s = time.perf_counter() - t0
        op = {"solution": rel(cf.normal_field(rho), ref_smooth), "random": rel(cf.normal_field(rough), ref_rough)}
        del cf
        solver = tf.solver.bem.BEMSolver(surf, options=BEMOptions(far_field="dense", near_factor=f))
        res = solver.solve(coil, pose, didt=DIDT)
        errs = {r: field_error(res, coil, pose, r) for r in (70.0, 84.0)}
        t0 = time.perf_counter()
        res.sample(fibonacci_sphere(0.084))
        eval84 = time.perf_counter() - t0
        near_rows.append({"factor": f, "near_pairs": int(nnz), "near_s": near_s, "operator_error": op,
                          "errors": errs, "iterations": res.provenance["solver"]["iterations"],
                          "eval_84_s": eval84})
        print(near_rows[-1], flush=True)
        del solver, res
    out["near"] = near_rows

    # (b) FMM precision. E at the 70 mm points: the dense solve evaluated with an accurate FMM
    base.charges.eps = 1e-10
    E_dense = base_res.sample(fibonacci_sphere(0.070))
    base.charges.eps = DEFAULTS.fmm_eps
    dense_apply = per_application(base.charges.normal_field, rho)
    fmm_rows = [{"eps": "dense", "per_application_s": dense_apply, "density_change": 0.0, "field_change": 0.0,
                 "error_70": field_error(base_res, coil, pose), "iterations": base_res.provenance["solver"]["iterations"],
                 "solve_s": base_res.timings["solve"]}]
    print(fmm_rows[-1], flush=True)
    for eps in FMM_EPSS:
        cf = charge_field.ChargeField(surf, far_field="fmm", eps=eps)
        cf.prepare()
        apply_s = per_application(cf.normal_field, rho)
        op_change = rel(cf.normal_field(rho), base.charges.normal_field(rho))
        del cf
        # the solver's operator and the evaluation at the points both use this eps
        solver = tf.solver.bem.BEMSolver(surf, options=BEMOptions(far_field="fmm", fmm_eps=eps))
        res = solver.solve(coil, pose, didt=DIDT)
        row = {"eps": eps, "per_application_s": apply_s, "operator_change": op_change,
               "density_change": rel(res.density, rho), "field_change": relative_l2(res.sample(fibonacci_sphere(0.070)), E_dense),
               "error_70": field_error(res, coil, pose), "iterations": res.provenance["solver"]["iterations"],
               "solve_s": res.timings["solve"]}
        fmm_rows.append(row)
        print(row, flush=True)
        del solver, res
    out["fmm"] = fmm_rows

    # (c) GMRES tolerance. The shipped dense far field is float32 (its rounding makes the
    # operator slightly nonlinear), so tight tolerances are also solved with a float64 copy of
    # it (patched into this script's solver only); the float64 tol 1e-10 solve is the reference.
    shipped = base.charges.normal_field
    float64 = _Float64Operator(base.charges)
    tol_results = {}
    for precision in ("float32", "float64"):
        if precision == "float64":
            base.charges.normal_field = float64
        for tol in TOLERANCES + ((REFERENCE_TOL,) if precision == "float64" else ()):
            # the same prepared operator, other GMRES settings (BEMSolver.with_solve_options)
            limited = base.with_solve_options(tol=tol, max_iterations=TOL_MAX_RESTARTS * DEFAULTS.restart)
            t0 = time.perf_counter()
            try:
                tol_results[precision, tol] = limited.solve(coil, pose, didt=DIDT)
            except tf.TmsFieldError as err:
                tol_results[precision, tol] = (str(err), time.perf_counter() - t0)
        base.charges.normal_field = shipped
    del float64
    best = tol_results["float64", REFERENCE_TOL]
    out["tol"] = []
    for (precision, tol), r in tol_results.items():
        if isinstance(r, tuple):
            out["tol"].append({"precision": precision, "tol": tol, "failed": r[0], "solve_s": r[1]})
        else:
            out["tol"].append({"precision": precision, "tol": tol, "iterations": r.provenance["solver"]["iterations"],
                               "solve_s": r.timings["solve"], "density_change": rel(r.density, best.density),
                               "field_change": sample_change(r, best), "error_70": field_error(r, coil, pose)})
        print(out["tol"][-1], flush=True)
    del best, tol_results

    # (d) ILU preconditioner on/off, both sources, dense (8 mm) and FMM (6 mm) far field
    ilu_rows = []
    for h_mm in (PARAM_EDGE_MM, ILU_FMM_EDGE_MM):
        s = surf if h_mm == PARAM_EDGE_MM else surfaces(h_mm)[0]
        solver = base if h_mm == PARAM_EDGE_MM else tf.solver.bem.BEMSolver(s)
        ilu = solver._ilu
        probe = np.random.default_rng(1).standard_normal(s.n_facets)
        operator_s = per_application(solver._operator().matvec, probe)
        ilu_s = per_application(ilu.solve, probe)
        for name, (c, p) in cases.items():
            for label in ("ILU", "none"):
                solver._ilu = ilu if label == "ILU" else _Identity(ilu.shape)
                try:
                    results = [solver.solve(c, p, didt=DIDT) for _ in range(SOLVE_REPEATS)]
                finally:
                    solver._ilu = ilu
                res = results[0]
                ilu_rows.append({"mesh_mm": h_mm, "n_facets": s.n_facets, "far_field": solver.charges.far_field,
                                 "source": name, "preconditioner": label,
                                 "preconditioner_s": solver.timings["preconditioner"] if label == "ILU" else 0.0,
                                 "operator_apply_s": operator_s, "ilu_apply_s": ilu_s if label == "ILU" else 0.0,
                                 "iterations": res.provenance["solver"]["iterations"],
                                 "solve_s": min(r.timings["solve"] for r in results),
                                 "error_70": field_error(res, c, p)})
                print(ilu_rows[-1], flush=True)
        del solver
    out["ilu"] = ilu_rows

    # (e) which constant limits the error on a fine mesh (FMM far field)
    fine, _ = surfaces(FINE_EDGE_MM)
    fine_rows = []
    for label, factor, eps in FINE_VARIANTS:
        t0 = time.perf_counter()
        solver = tf.solver.bem.BEMSolver(fine, options=BEMOptions(near_factor=factor, fmm_eps=eps))
        setup_s = time.perf_counter() - t0
        for name, (c, p) in cases.items():
            res = solver.solve(c, p, didt=DIDT)
            fine_rows.append({"variant": label, "near_factor": factor, "eps": eps, "source": name,
                              "n_facets": fine.n_facets, "mean_edge_mm": 1e3 * fine.mean_edge_length,
                              "setup_s": setup_s, "solve_s": res.timings["solve"],
                              "iterations": res.provenance["solver"]["iterations"],
                              "errors": {r: field_error(res, c, p, r) for r in EVAL_RADII_MM}})
            print(fine_rows[-1], flush=True)
        del solver
    out["fine"] = fine_rows
    out["total_s"] = time.perf_counter() - t_start
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "bem_parameters.md", parameters_markdown(prov, out))


class _Float64Operator:
    """ChargeField.normal_field with the dense far field in float64 (no float32 rounding)."""

    def __init__(self, charges):
        self.far, self.near = charges._dense_far.astype(np.float64), charges.near_exact

    def __call__(self, density):
        return self.far @ density + self.near @ density


class _Identity:
    """Stands in for the ILU factorisation: no preconditioning."""

    def __init__(self, shape):
        self.shape = shape

    @staticmethod
    def solve(x):
        return x


def parameters_markdown(prov, out) -> str:
    pct = lambda v: f"{100 * v:.3f} %"
    lines = ["# BEM solver constants: measurements", "",
             f"Surfaces: the 3-layer sphere of validation/bem_sphere_study.py at {PARAM_EDGE_MM:g} mm edge length "
             f"({out['n_facets']} facets, mean edge {out['mean_edge_mm']:.2f} mm), figure-8 dipole model 4 mm above "
             f"the scalp, dI/dt = {DIDT:g} A/s. '70 mm error': relative L2 error of E against the analytic field "
             f"at {N_POINTS} Fibonacci points on the 70 mm sphere (84 mm: 1 mm inside the innermost interface). "
             "Unless varied, the defaults: near factor "
             f"{DEFAULTS.near_factor:g}, dense float32 far field, GMRES tol {DEFAULTS.tol:g}, ILU.",
             *header_lines(prov), f"Total run time {out['total_s'] / 60:.1f} min.", "",
             f"## (a) near_factor (currently {DEFAULTS.near_factor:g})", "",
             "Operator error: relative L2 error over the facets of "
             "`ChargeField(surf, near_factor=f, far_field=\"dense\").normal_field(ρ)` against the all-exact "
             "operator (every pair by solver/bem/integrals.field, self term 0, /(4π), normal component; built in "
             f"{out['reference_s']:.0f} s), for ρ = the figure-8 solution and ρ = i.i.d. standard normal ('random', "
             "a rough worst case). Solve errors: full BEMSolver solve with the factor (module constant patched; "
             "the evaluation at the points uses it too). near (s): building the sparse near-field matrices.", "",
             "| factor | near pairs | per facet | near (s) | operator err. (solution ρ) | operator err. (random ρ) | "
             "70 mm error | 84 mm error | GMRES its | eval 84 mm (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in out["near"]:
        lines.append(f"| {r['factor']:g} | {r['near_pairs']} | {r['near_pairs'] / out['n_facets']:.1f} | "
                     f"{r['near_s']:.1f} | {r['operator_error']['solution']:.2e} | "
                     f"{r['operator_error']['random']:.2e} | {pct(r['errors'][70.0])} | {pct(r['errors'][84.0])} | "
                     f"{r['iterations']} | {r['eval_84_s']:.2f} |")
    lines += ["", f"## (b) fmm_eps (currently {DEFAULTS.fmm_eps:g})", "",
              "far_field=\"fmm\" against the dense float32 far field. per application: fastest wall time of one "
              f"`normal_field(ρ)` (collocation operator, {REPEATS} repeats). operator change: relative change of "
              "normal_field(ρ) vs dense; density / field change: relative L2 change of the solved charges and of E "
              "on the 70 mm sphere vs the dense solve (E of the dense solve evaluated with FMM eps 1e-10; the FMM "
              "solves evaluate E with the FMM at their own eps: 4000 × facets > fmm_min_pairs).", "",
              "| far field | per application (s) | operator change | density change | field change (70 mm) | "
              "70 mm error | GMRES its | solve (s) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in out["fmm"]:
        label = "dense float32" if r["eps"] == "dense" else f"fmm eps {r['eps']:g}"
        opc = "—" if r["eps"] == "dense" else f"{r['operator_change']:.1e}"
        dc = "—" if r["eps"] == "dense" else f"{r['density_change']:.1e}"
        fc = "—" if r["eps"] == "dense" else f"{r['field_change']:.1e}"
        lines.append(f"| {label} | {r['per_application_s']:.3f} | {opc} | {dc} | {fc} | {pct(r['error_70'])} | "
                     f"{r['iterations']} | {r['solve_s']:.1f} |")
    lines += ["", f"## (c) GMRES tolerance (currently {DEFAULTS.tol:g})", "",
              "float32: the shipped dense far field; float64: the same operator with a float64 far-field matrix "
              "and no float32 rounding of ρ (patched in this script only). Changes relative to the float64 tol "
              f"{REFERENCE_TOL:g} solve. GMRES limited to {TOL_MAX_RESTARTS} restart cycles of "
              f"{DEFAULTS.restart} iterations here (the solver's max_iterations = {DEFAULTS.max_iterations} "
              "counts iterations; GMRES runs max_iterations / restart cycles).", "",
              "| far-field precision | tol | GMRES its | solve (s) | density change | field change (70 mm) | "
              "70 mm error |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in out["tol"]:
        if "failed" in r:
            lines.append(f"| {r['precision']} | {r['tol']:.0e} | failed: {r['failed']} | {r['solve_s']:.1f} | — | — | — |")
            continue
        ref = r["precision"] == "float64" and r["tol"] == REFERENCE_TOL
        dc = "(reference)" if ref else f"{r['density_change']:.1e}"
        fc = "(reference)" if ref else f"{r['field_change']:.1e}"
        lines.append(f"| {r['precision']} | {r['tol']:.0e} | {r['iterations']} | {r['solve_s']:.2f} | {dc} | {fc} | "
                     f"{pct(r['error_70'])} |")
    lines += ["", f"## (d) ILU preconditioner (drop tol {DEFAULTS.ilu_drop_tol:g}, fill {DEFAULTS.ilu_fill:g})",
              "", "'none': the factorisation's solve replaced by the identity in this script. ILU build (s): "
              "building the factorisation (once per solver). operator / ILU apply: one GMRES matrix-vector "
              f"product / one preconditioner solve (fastest of {REPEATS}). solve: fastest of {SOLVE_REPEATS} "
              "solves. Also on the 6 mm surfaces, whose far field is the FMM.", "",
              "| mesh | facets | far field | source | preconditioner | ILU build (s) | operator apply (s) | "
              "ILU apply (s) | GMRES its | solve (s) | 70 mm error |",
              "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in out["ilu"]:
        ilu_apply = f"{r['ilu_apply_s']:.4f}" if r["preconditioner"] == "ILU" else "—"
        lines.append(f"| {r['mesh_mm']:g} mm | {r['n_facets']} | {r['far_field']} | {r['source']} | "
                     f"{r['preconditioner']} | {r['preconditioner_s']:.1f} | {r['operator_apply_s']:.4f} | "
                     f"{ilu_apply} | {r['iterations']} | {r['solve_s']:.1f} | {pct(r['error_70'])} |")
    f = out["fine"]
    lines += ["", f"## (e) What limits the error on a fine mesh ({FINE_EDGE_MM:g} mm: {f[0]['n_facets']} facets, mean "
              f"edge {f[0]['mean_edge_mm']:.2f} mm, FMM far field)", "",
              "Solvers built with BEMOptions(near_factor=..., fmm_eps=...): the whole solve, the evaluation at the points included.",
              "", "| variant | source | 70 mm | 80 mm | 84 mm | setup (s) | solve (s) | GMRES its |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in f:
        e = r["errors"]
        lines.append(f"| {r['variant']} | {r['source']} | {pct(e[70.0])} | {pct(e[80.0])} | {pct(e[84.0])} | "
                     f"{r['setup_s']:.1f} | {r['solve_s']:.1f} | {r['iterations']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the two coarsest meshes only")
    parser.add_argument("--parameters", action="store_true",
                        help="measure the solver constants instead (writes bem_parameters.md)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    command = "python -m tmsfield.validation.bem_sphere_study" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    (parameters if args.parameters else study)(args, command)


if __name__ == "__main__":
    main()
