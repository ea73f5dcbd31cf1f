"""BEM benchmark: matvec time and memory against the number of facets, and the 3-shell head.

Writes benchmarks/results/bem.{md,json}. Run from the repository root:
``python benchmarks/bem.py`` (``--quick``: the 10k and 50k surfaces only). Every case runs in
its own process so its peak memory is its own; surfaces are generated once and cached in
benchmarks/.cache.

Scaling: 3-layer spheres (85/90/95 mm, gmsh) with ≈10k, 50k, 200k and 1M facets. For each,
the collocation matvec n·E_c(ρ) (the product GMRES applies: fmm3dpy far field + sparse exact
near-field correction) against the O(N²) direct point-charge sum (baseline, same process,
up to ``DIRECT_MAX_FACETS``) and the dense float32 matrix the solver uses up to 20k facets;
set-up stages and one full solve (figure-8 dipole model 4 mm above the scalp) up to
``SOLVE_MAX_FACETS``.
Head: the wh_sub01 3-shell surfaces (../shared/data), set-up + two placements + E on the cortex.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import common
import numpy as np

CACHE = Path("benchmarks/.cache")
OUT = Path("benchmarks/results")
RADII = (0.085, 0.090, 0.095)
TAGS = (3, 4, 5)
#: target facet counts; a triangle of edge h has area √3/4·h², the three spheres 0.306 m²
FACETS = (10_000, 50_000, 200_000, 1_000_000)
#: the O(N²) baseline takes ~1 min at 50k facets on 2 cores (and would take ~15 min at 200k)
DIRECT_MAX_FACETS = 60_000
#: full solves (ILU set-up + GMRES) up to this size; at 1M the ILU of 80M near pairs does not fit
#: the 2-core machine's patience, the matvec is what the scaling shows
SOLVE_MAX_FACETS = 300_000
REPEATS = 3


def edge_for(facets: int) -> float:
    """Edge length (m) giving about ``facets`` triangles on the three spheres."""
    area = 4 * np.pi * sum(r * r for r in RADII)
    return float(np.sqrt(area / (facets * np.sqrt(3) / 4)))


def surfaces(facets: int):
    import tmsfield as tf
    path = CACHE / f"spheres_{facets}.npz"
    if not path.exists():
        surf = tf.head_models.sphere_surfaces(RADII, edge_length=edge_for(facets))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"v{i}": v for i, (v, _) in enumerate(surf)}, **{f"f{i}": f for i, (_, f) in enumerate(surf)})
    with np.load(path) as d:
        return [(d[f"v{i}"], d[f"f{i}"]) for i in range(len(RADII))]


def best_time(fn):
    """(fastest wall time of ``REPEATS`` calls in s, last output)."""
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def run_scaling(facets: int) -> dict:
    import tmsfield as tf
    from tmsfield.solver.bem.charge_field import ChargeField, direct_sums
    from tmsfield.solver.bem.interfaces import Interfaces
    from tmsfield.solver.bem.solver import BEMSolver
    surf_list = surfaces(facets)
    load = common.load_average()
    t0 = time.perf_counter()
    surf = Interfaces.from_surfaces(surf_list, tags=TAGS)
    row = {"facets": surf.n_facets, "mean_edge_mm": 1e3 * surf.mean_edge_length,
           "interfaces_s": time.perf_counter() - t0, "load_average": load}
    solve = surf.n_facets <= SOLVE_MAX_FACETS
    if solve:
        solver = BEMSolver(surf, far_field="fmm")
        charges = solver.charges
        row["setup_s"] = _setup_stages(solver)
    else:
        charges = ChargeField(surf, far_field="fmm")
        t0 = time.perf_counter()
        charges.prepare()
        row["setup_s"] = {"near field": time.perf_counter() - t0}
    near = charges.near_matrix
    row["near_pairs"] = int(near.nnz)
    row["near_gb"] = 2 * (near.data.nbytes + near.indices.nbytes + near.indptr.nbytes) / 2**30
    density = np.random.default_rng(0).normal(size=surf.n_facets)
    row["matvec_s"], fast = best_time(lambda: charges.normal_field(density))
    observation = charges._observation[0]
    row["fmm_s"], _ = best_time(lambda: charges._far(observation, density, "field"))
    row["sparse_s"], _ = best_time(lambda: near @ density)
    if surf.n_facets <= DIRECT_MAX_FACETS:
        sources, q = charges._point_charges(density)
        t0 = time.perf_counter()
        far = direct_sums(sources, q, observation, "field")
        row["direct_s"] = time.perf_counter() - t0
        exact = charges._row_average(far) + near @ density
        row["fmm_vs_direct"] = float(np.linalg.norm(fast - exact) / np.linalg.norm(exact))
    if surf.n_facets <= 20_000:
        dense = ChargeField(surf, far_field="dense")
        dense._near_matrices = charges._near_matrices
        t0 = time.perf_counter()
        dense.prepare()
        row["dense_build_s"] = time.perf_counter() - t0
        row["dense_s"], _ = best_time(lambda: dense.normal_field(density))
        del dense
    if solve:
        coil = tf.coils.figure8(model="dipoles")
        pose = tf.CoilPose.from_axes([0, 0, RADII[-1] + 0.004], [0, 0, -1], [0, 1, 0])
        result = solver.solve(coil, pose, didt=1e6)
        row["solve_s"] = {k: v for k, v in result.timings.items() if k not in solver.timings}
        row["gmres_iterations"] = result.provenance["solver"]["iterations"]
    row["peak_rss_gb"] = common.peak_rss_gb()
    return row


def run_head(data: str) -> dict:
    import tmsfield as tf
    from tmsfield.solver.bem.interfaces import Interfaces
    from tmsfield.solver.bem.solver import BEMSolver
    from tmsfield.validation.bem_fem_head import TAGS as HEAD_TAGS
    from tmsfield.validation.bem_fem_head import load, placements
    surf_list, cortex = load(Path(data))
    poses = [pose for pose, _ in placements(tf.head_models.from_surfaces(surf_list, tags=HEAD_TAGS),
                                            cortex).values()]
    coil = tf.coils.figure8()
    load_avg = common.load_average()
    t_start = time.perf_counter()
    surf = Interfaces.from_surfaces(surf_list, tags=HEAD_TAGS)
    interfaces = time.perf_counter() - t_start
    solver = BEMSolver(surf)
    setup = time.perf_counter() - t_start
    row = {"facets": surf.n_facets, "setup_s": {"interfaces": interfaces, **_setup_stages(solver)},
           "placements": [], "load_average": load_avg}
    previous = None
    for pose in poses:
        t0 = time.perf_counter()
        result = solver.solve(coil, pose, didt=1e6, initial=previous)
        solved = time.perf_counter() - t0
        E = result.sample(cortex)
        row["placements"].append({"solve_s": solved, "cortex_s": time.perf_counter() - t0 - solved,
                                  "stages_s": {k: v for k, v in result.timings.items() if k not in solver.timings},
                                  "gmres_iterations": result.provenance["solver"]["iterations"],
                                  "cortex_points": len(cortex),
                                  "peak_E": float(np.percentile(np.linalg.norm(E, axis=1), 99.9))})
        previous = result.unknowns
    row["first_s"] = setup + row["placements"][0]["solve_s"]
    row["first_with_cortex_s"] = row["first_s"] + row["placements"][0]["cortex_s"]
    row["peak_rss_gb"] = common.peak_rss_gb()
    return row


def _setup_stages(solver) -> dict:
    """The solver's set-up stages (s), without "interfaces" (built before, timed by the caller)."""
    return {k: v for k, v in solver.timings.items() if k != "interfaces"}


def _fmt_stages(stages: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in stages.items())


def markdown(rows, head, machine) -> str:
    lines = ["# BEM: matvec and solve against the number of facets; the 3-shell head", "",
             (f"Machine: {machine}; {time.strftime('%Y-%m-%d')}; `python benchmarks/bem.py`. Each case in its "
             "own process (peak RSS = its max resident memory). Surfaces: gmsh 3-layer spheres 85/90/95 mm. "
             f"matvec = one application of the collocation operator n·E_c(ρ) as GMRES uses it (fmm3dpy far "
             f"field at eps 1e-3 + sparse exact near field), fastest of {REPEATS}; direct = the O(N²) blocked "
             "point-charge sum (the baseline, once) with the same sparse near part; dense = the float32 matrix "
             "the solver uses up to 20k facets. near (GB): the two sparse near-field matrices. load: 1-minute load "
             "average when the case started (2 cores; above 2 the case shared the cores with other jobs)."), "",
             ("| facets | mean edge (mm) | near pairs | near (GB) | matvec (s) | of which FMM (s) | sparse (s) | "
             "matvec / (N log N) (ns) | direct (s) | direct / matvec | FMM vs direct | dense (s) | peak RSS (GB) | load |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        n = r["facets"]
        per = 1e9 * r["matvec_s"] / (n * np.log(n))
        direct = f"{r['direct_s']:.1f} | {r['direct_s'] / r['matvec_s']:.0f}× | {r['fmm_vs_direct']:.1e}" \
            if "direct_s" in r else "— | — | —"
        dense = f"{r['dense_s']:.3f}" if "dense_s" in r else "—"
        lines.append(f"| {n} | {r['mean_edge_mm']:.2f} | {r['near_pairs']} | {r['near_gb']:.2f} | "
                     f"{r['matvec_s']:.3f} | {r['fmm_s']:.3f} | {r['sparse_s']:.3f} | {per:.1f} | {direct} | "
                     f"{dense} | {r['peak_rss_gb']:.2f} | {r.get('load_average', float('nan')):.1f} |")
    if len(rows) > 1:
        n = np.array([r["facets"] for r in rows], float)
        t = np.array([r["matvec_s"] for r in rows])
        slope = np.polyfit(np.log(n), np.log(t), 1)[0]
        lines += ["", (f"Log–log slope of matvec time against N over {int(n[0])}–{int(n[-1])} facets: "
                  f"{slope:.2f} (N log N over the same range: "
                  f"{np.polyfit(np.log(n), np.log(n * np.log(n)), 1)[0]:.2f}; O(N²): 2).")]
    lines += ["", "Set-up and solve stages (s):", ""]
    for r in rows:
        solve = (f"; solve: {_fmt_stages(r['solve_s'])}, {r['gmres_iterations']} GMRES iterations"
                 if "solve_s" in r else "; no solve (matvec only)")
        lines.append(f"- {r['facets']} facets: interfaces {r['interfaces_s']:.2f}, {_fmt_stages(r['setup_s'])}"
                     + solve)
    if head:
        lines += ["", "## wh_sub01 3-shell head (BEM on the surfaces as given)", "",
                  (f"{head['facets']} facets, default solver (dense far field, ILU-preconditioned GMRES), the SimNIBS-like "
                  "figure-8 wire model at the two placements of validation/bem_fem_head.py. "
                  f"Set-up: {_fmt_stages(head['setup_s'])} (interfaces = surface checks and facet tables). Peak RSS {head['peak_rss_gb']:.2f} GB; "
                  f"load average at the start {head['load_average']:.1f} on 2 cores."), "",
                  "| placement | solve (s) | GMRES its | E at cortex (s) | cortex points | stages (s) |",
                  "|---:|---:|---:|---:|---:|---|"]
        for i, p in enumerate(head["placements"], 1):
            lines.append(f"| {i} | {p['solve_s']:.2f} | {p['gmres_iterations']} | {p['cortex_s']:.2f} | "
                         f"{p['cortex_points']} | {_fmt_stages(p['stages_s'])} |")
        lines += ["", (f"First placement end to end (set-up + solve): **{head['first_s']:.1f} s** "
                  f"({head['first_with_cortex_s']:.1f} s with E on the cortex); the target is < 10 s on 2 cores. "
                  "The second placement starts GMRES from the first one's charges.")]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k and 50k facets only")
    parser.add_argument("--data", default="../shared/data/heads/wh_sub01_3shell/hbf_samplehead_3shell_wh.mat")
    parser.add_argument("--only", choices=("scaling", "head"),
                        help="run only this part and keep the other from the recorded bem.json")
    parser.add_argument("--case", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, arg = args.case
        print(json.dumps(run_scaling(int(arg)) if kind == "scaling" else run_head(arg)))
        return
    recorded = json.loads((OUT / "bem.json").read_text()) if args.only else {}
    rows = recorded.get("rows", []) if args.only == "head" else []
    for facets in () if args.only == "head" else FACETS[:2] if args.quick else FACETS:
        surfaces(facets)
        row = common.run_case(__file__, "scaling", facets)
        if row is not None:
            rows.append(row)
            print({k: v for k, v in row.items() if not isinstance(v, dict)}, flush=True)
    if args.only == "scaling":
        head = recorded.get("head")
    else:
        head = common.run_case(__file__, "head", args.data) if Path(args.data).exists() else None
    print(head, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    from tmsfield.core.files import write_text_atomic
    machine = common.machine()
    write_text_atomic(OUT / "bem.md", markdown(rows, head, machine))
    write_text_atomic(OUT / "bem.json", json.dumps({"machine": machine, "rows": rows, "head": head}, indent=2) + "\n")


if __name__ == "__main__":
    main()
