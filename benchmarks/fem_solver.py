"""FEM benchmark: tmsfield P1/P2 vs a straightforward scikit-fem + pyamg pipeline, same run.

Writes benchmarks/results/fem_solver.{md,json}. Run from the repository root:
``python benchmarks/fem_solver.py`` (``--quick``: the two smallest meshes). Every case runs in
its own subprocess so its peak memory (max RSS) is its own; meshes are generated once and
cached in benchmarks/.cache. Source: the dipole figure-8 4 mm above a 3-layer 95 mm sphere;
"first" = setup + one placement, "next" = one more placement (another position) on the same
solver, "batched" = time per placement of ``solve_many`` over a sweep of ``N_SWEEP`` nearby
placements (one block-CG solve); error = shell (60–80 mm) centroid error against the analytic
field.
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
#: target edge length (mm) -> tetrahedra: 8 → 49k, 4.6 ≈ 200k, 2.5 → 1.1M, 1.75 ≈ 3M
EDGES_MM = (8.0, 4.6, 2.5, 1.75)
CASES = [(1, "tmsfield"), (1, "baseline"), (2, "tmsfield"), (2, "baseline")]
#: P2 is run up to this edge length (finer P2 meshes exceed the 2-core machine's patience)
P2_MIN_EDGE_MM = 2.5


def mesh(h_mm: float):
    import tmsfield as tf
    path = CACHE / f"sphere_{h_mm:g}mm.npz"
    if not path.exists():
        head = tf.head_models.concentric_spheres(edge_length=h_mm * 1e-3)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, nodes=head.nodes, tets=head.tets, tags=head.tags)
    with np.load(path) as d:
        return tf.HeadMesh(d["nodes"], d["tets"], d["tags"], name=f"sphere {h_mm:g} mm")


def poses():
    import tmsfield as tf
    return [tf.CoilPose.from_axes([0, 0, 0.099], [0, 0, -1], [0, 1, 0]),
            tf.CoilPose.from_axes([0.0, 0.0572, 0.0792], [0, -0.585, -0.811], [1, 0, 0])]


#: placements in the batched sweep (solve_many's default batch size)
N_SWEEP = 8


def sweep_poses():
    """N_SWEEP placements as an optimisation sweep visits them: centres 0–10 mm from the top of
    the sphere at 99 mm radius, handle angles 0–90°."""
    import tmsfield as tf
    out = []
    for i in range(N_SWEEP):
        polar, azimuth, handle = np.radians(6.0 * (i % 3)), np.radians(45.0 * i), np.radians(15.0 * (i % 7))
        normal = np.array([np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)])
        east = np.cross([0.0, 1.0, 0.0], normal)
        east /= np.linalg.norm(east)
        north = np.cross(normal, east)
        out.append(tf.CoilPose.from_axes(0.099 * normal, -normal, np.cos(handle) * north + np.sin(handle) * east))
    return out


#: the error is scored on every k-th shell element, at most this many (the analytic sum over
#: 3,060 dipoles at 800k centroids would take longer than the solves being timed)
MAX_SCORED = 100_000


def shell_error(head, E, coil, pose):
    from tmsfield.validation.analytic import relative_l2, sphere_e_field
    r = np.linalg.norm(head.centroids, axis=1)
    sel = np.flatnonzero((r >= 0.06) & (r <= 0.08))
    sel = sel[::max(1, len(sel) // MAX_SCORED)]
    placed = coil.transformed(pose.matrix)
    return relative_l2(E[sel], sphere_e_field(head.centroids[sel], placed.dipole_positions,
                                              placed.dipole_moments, 1e6))


def run_tmsfield(head, order, coil):
    import tmsfield as tf
    t0 = time.perf_counter()
    solver = tf.FieldSolver(head, order=order)
    setup = time.perf_counter() - t0
    times, results = [], []
    for pose in poses():
        t0 = time.perf_counter()
        results.append(solver.solve(coil, pose, didt=1e6))
        times.append(time.perf_counter() - t0)
    stages = {k: v for k, v in results[0].timings.items()}
    t0 = time.perf_counter()
    batch = solver.solve_many(coil, sweep_poses(), didt=1e6, verbose=False)
    batched = (time.perf_counter() - t0) / len(batch)
    return setup, times, results[0].E, {"stages_s": stages, "batched_s": batched,
                                        "cg_iterations": results[0].provenance["solver"]["iterations"],
                                        "block_cg_iterations": batch[0].provenance["solver"]["iterations"]}


def run_baseline(head, order, coil):
    """scikit-fem assembly, ∂A/∂t by FMM at nodes (P1) or quadrature points (P2), pyamg SA + CG."""
    import pyamg
    import scipy.sparse.linalg as spla
    import skfem
    from skfem.helpers import dot, grad
    t0 = time.perf_counter()
    element = skfem.ElementTetP1() if order == 1 else skfem.ElementTetP2()
    basis = skfem.Basis(skfem.MeshTet(head.nodes.T, head.tets.T), element, intorder=2 * order)
    sigma = np.repeat(head.conductivity()[:, None], basis.X.shape[-1], axis=1)

    @skfem.BilinearForm
    def laplace(u, v, w):
        return w["sigma"] * dot(grad(u), grad(v))

    @skfem.LinearForm
    def source(v, w):
        return -w["sigma"] * dot(grad(v), w["a"])

    K = laplace.assemble(basis, sigma=sigma).tocsr()
    keep = np.arange(1, K.shape[0])
    Kr = K[keep][:, keep].tocsr()
    ml = pyamg.smoothed_aggregation_solver(Kr, symmetry="symmetric", max_coarse=500)
    M = ml.aspreconditioner()
    setup = time.perf_counter() - t0
    times, first_E = [], None
    for pose in poses():
        t0 = time.perf_counter()
        xq = basis.mapping.F(basis.X)                                  # (3, M, Q) quadrature points
        if order == 1:
            a_nodes = coil.dadt(head.nodes, pose, didt=1e6)
            a = np.stack([basis.interpolate(a_nodes[:, k]).value for k in range(3)])
        else:
            a = coil.dadt(xq.reshape(3, -1).T, pose, didt=1e6).T.reshape(xq.shape)
        b = source.assemble(basis, sigma=sigma, a=a)
        x, _ = spla.cg(Kr, b[keep], rtol=1e-8, atol=0.0, M=M, maxiter=1000)   # tmsfield's default tol
        phi = np.concatenate([[0.0], x])
        centroid = basis.mapping.F(np.full((3, 1), 0.25))[:, :, 0].T
        grad_phi = basis.interpolate(phi).grad                         # (3, M, Q)
        E = -grad_phi.mean(axis=2).T if order == 1 else None
        if order == 2:  # evaluate at the centroid with a centroid basis
            cb = skfem.Basis(basis.mesh, element, quadrature=(np.full((3, 1), 0.25), np.ones(1) / 6))
            E = -cb.interpolate(phi).grad[:, :, 0].T
        E = E - coil.dadt(centroid, pose, didt=1e6)
        times.append(time.perf_counter() - t0)
        first_E = first_E if first_E is not None else E
    return setup, times, first_E, {}


def run_case(order, impl, h_mm):
    import tmsfield as tf
    head = mesh(h_mm)
    coil = tf.coils.figure8(model="dipoles")
    runner = run_tmsfield if impl == "tmsfield" else run_baseline
    setup, times, E, extra = runner(head, order, coil)
    return {"order": order, "impl": impl, "edge_mm": h_mm, "n_tets": head.n_tets,
            "mean_edge_mm": 1e3 * head.mean_edge_length, "setup_s": setup, "first_s": setup + times[0],
            "next_s": times[1], "shell_error": shell_error(head, E, coil, poses()[0]),
            "peak_rss_gb": common.peak_rss_gb(), **extra}


def markdown(rows, machine):
    lines = ["# FEM: tmsfield vs scikit-fem + pyamg baseline", "",
             f"Machine: {machine}; {time.strftime('%Y-%m-%d')}; `python benchmarks/fem_solver.py`. "
             "Both pipelines in the same run, each case in its own process (peak RSS = its max resident "
             "memory, mesh included). Source: dipole figure-8 4 mm above a 3-layer 95 mm sphere, dI/dt 1e6 A/s, "
             "CG tolerance 1e-8 for both, pyamg smoothed aggregation (tmsfield P2: two-level, AMG on the P1 subspace). first = setup + 1 placement; next = 1 more "
             "placement on the same solver; error = 60–80 mm shell, element centroids (every k-th, "
             f"at most {MAX_SCORED:,}).", "",
             f"| P | tets | impl | setup (s) | first (s) | next (s) | batched (s / placement, {N_SWEEP}) | "
             "first vs baseline | next / first | batched / first | error | peak RSS (GB) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = {(r["order"], r["edge_mm"]): r for r in rows if r["impl"] == "baseline"}
    for r in rows:
        b = base.get((r["order"], r["edge_mm"]))
        ratio = f"{b['first_s'] / r['first_s']:.2f}× faster" if b and r["impl"] == "tmsfield" else ""
        batched = f"{r['batched_s']:.2f}" if "batched_s" in r else ""
        batched_ratio = f"{r['batched_s'] / r['first_s']:.2f}" if "batched_s" in r else ""
        lines.append(f"| {r['order']} | {r['n_tets']} | {r['impl']} | {r['setup_s']:.2f} | {r['first_s']:.2f} | "
                     f"{r['next_s']:.2f} | {batched} | {ratio} | {r['next_s'] / r['first_s']:.2f} | {batched_ratio} | "
                     f"{100 * r['shell_error']:.3f} % | {r['peak_rss_gb']:.2f} |")
    stages = [r for r in rows if r["impl"] == "tmsfield"]
    lines += ["", "tmsfield stages of the first placement (s):", ""]
    lines += [f"- P{r['order']}, {r['n_tets']} tets: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items())
              + f"; CG {r['cg_iterations']} iterations (block CG of the batch: {r['block_cg_iterations']})"
              for r in stages]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", nargs=3, metavar=("ORDER", "IMPL", "EDGE_MM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1], float(args.case[2]))))
        return
    rows = []
    for h in EDGES_MM[:2] if args.quick else EDGES_MM:
        mesh(h)
        for order, impl in CASES:
            if order == 2 and h < P2_MIN_EDGE_MM:
                continue
            row = common.run_case(__file__, order, impl, h)
            if row is None:
                continue
            rows.append(row)
            print({k: v for k, v in rows[-1].items() if k != "stages_s"}, flush=True)
    machine = common.machine()
    OUT.mkdir(parents=True, exist_ok=True)
    from tmsfield.core.files import write_text_atomic
    write_text_atomic(OUT / "fem_solver.md", markdown(rows, machine))
    write_text_atomic(OUT / "fem_solver.json", json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
