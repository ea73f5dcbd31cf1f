"""GPU check and benchmark: every figure of the GPU path, each beside the CPU path of the same run.

Runs on a machine with a CUDA device and numpy, scipy, cupy, plus pyamg, fmm3dpy and libigl
(carried as wheels where the machine has no package index). Each section is timed on the GPU
(``backend="gpu"``) and on the CPU (``backend="cpu"``) in this one process; the CPU side can be
pinned to a few cores with ``taskset`` around the whole command, as the record states.

Sections (``--sections``, default all):

- ``primary``: A of 2,000 magnetic dipoles at 1M points: GPU direct sums vs the CPU's FMM
  (fmm3dpy, what ``method="auto"`` picks there) and the CPU direct sums (timed on a subset and
  scaled: the cost is linear in the points); max relative difference GPU vs FMM.
- ``fem``: FEMSolver P1 and P2 on ``--mesh`` (an .npz with nodes (N, 3) m, tets (M, 4), tags (M,)):
  setup, first placement, next placement, and per placement in a batch of 8 (block CG), with
  CG iterations; relative difference of E between GPU and CPU. The P2 CPU side runs setup and
  one placement only (``--cpu-p2`` off skips it).
- ``cunibs``: cuNIBS (benchmarks/gpu_cunibs.py) P1 on the same mesh and coil, if it imports:
  setup, time per placement, and |E| agreement with our P1 on the GPU.
- ``bem``: BEMSolver on ``--surfaces`` (3 nested spheres, ≈200k facets): set-up stages, one
  collocation product (GPU direct far field vs the CPU's fmm3dpy, same near field) and one
  GMRES solve on the GPU; the CPU solve is given as GMRES iterations × the CPU product.
- ``bem_thin``: BEMSolver on four spheres with a 1.5 mm CSF layer (``.gpu/thin_csf_<h>mm.npz``)
  at 5.8, 2.9 and 2 mm facets, everything on the GPU: set-up stages, GMRES solve, error of E
  against the analytic field; the first case also set up on the CPU.
- ``adm``: ``optimize_placement`` (reciprocity + ADM, 100 positions × 360 handle angles) on
  ``--adm-mesh`` with a P2 FEMSolver on the GPU (reciprocal fields on the grids: direct sums)
  and on the CPU (FMM): evaluations per second and agreement of the two maps.
- ``tests``: the GPU-marked tests (``pytest -m gpu``).

Each GPU section first runs a small warm-up so that cupy's one-off kernel compilation (cached
on disk afterwards) is reported apart (``cold_start_s``) from the timings.
``--prepare`` writes the inputs into ``.gpu/`` on a machine with gmsh (the GPU machine needs
none): the 1.1M-tetrahedron sphere of benchmarks/real_scale.py, the 207k-facet surfaces, the
test suite's spheres, small surfaces for the dry run. ``--dry-run`` runs the whole script on a
machine without a GPU, with the device emulation in place of cupy and small inputs (``--mesh
.gpu/test_meshes/sphere_6mm.npz --surfaces .gpu/spheres_small.npz``): it checks the script,
not speed. On a machine without internet, carry ``.gpu`` and wheels of pyamg, fmm3dpy, libigl
(and cunibs) for its Python.

Writes ``gpu.json`` and ``gpu.md`` to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.head_models.mesh import HeadMesh

DIDT = 1e6
#: the GPU side: "gpu", or the device emulation under --dry-run (set once in main)
GPU: object = "gpu"
DRY_RUN = False
CENTRES = [(0.0, 0.0, 0.095), (0.02, 0.0, 0.093), (0.0, 0.02, 0.093), (-0.02, 0.0, 0.093), (0.0, -0.02, 0.093),
           (0.03, 0.03, 0.085), (-0.03, 0.03, 0.085), (0.03, -0.03, 0.085), (-0.03, -0.03, 0.085),
           (0.04, 0.0, 0.086)]


def _sync():
    if not DRY_RUN:
        import cupy
        cupy.cuda.Device().synchronize()


def _clock(function, *args, **kwargs):
    _sync()
    start = time.perf_counter()
    out = function(*args, **kwargs)
    _sync()
    return out, time.perf_counter() - start


def device_description() -> dict:
    if DRY_RUN:
        return {"gpu": "none (dry run: device emulation)", "gpu_memory_gb": 0, "cupy": "-", "cuda_runtime": "-",
                "numpy": np.__version__, "python": platform.python_version(), "cpu": platform.processor(),
                "cpu_cores_usable": len(os.sched_getaffinity(0)), "cpu_cores_machine": os.cpu_count()}
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"gpu": name, "gpu_memory_gb": round(props["totalGlobalMem"] / 2**30, 1),
            "cupy": cupy.__version__, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "numpy": np.__version__, "python": platform.python_version(), "cpu": cpu,
            "cpu_cores_usable": len(os.sched_getaffinity(0)), "cpu_cores_machine": os.cpu_count()}


def dipole_coil(n: int) -> tf.coils.Coil:
    """The first ``n`` dipoles of the default figure-8 dipole model (a 2,000-dipole source)."""
    full = tf.coils.figure8(model="dipoles")
    return tf.coils.Coil(dipole_positions=full.dipole_positions[:n], dipole_moments=full.dipole_moments[:n],
                         name=f"figure-8, first {n} dipoles")


def section_primary(args) -> dict:
    from tmsfield.coils.primary import vector_potential
    coil = dipole_coil(2000)
    rng = np.random.default_rng(0)
    points = rng.uniform(-0.09, 0.09, size=(20_000 if DRY_RUN else 1_000_000, 3)) * [1, 1, 0.5]
    vector_potential(coil, points[:1000], method="direct", backend=GPU)                   # warm-up (kernels)
    gpu, t_gpu = _clock(vector_potential, coil, points, method="direct", backend=GPU)
    start = time.perf_counter()
    fmm = vector_potential(coil, points, method="fmm", backend="cpu")
    t_fmm = time.perf_counter() - start
    subset = min(10_000, len(points))
    start = time.perf_counter()
    direct = vector_potential(coil, points[:subset], method="direct", backend="cpu")
    t_direct = (time.perf_counter() - start) * len(points) / subset
    scale = np.abs(gpu).max()
    return {"dipoles": 2000, "points": len(points), "gpu_direct_s": t_gpu, "cpu_fmm_s": t_fmm,
            "cpu_direct_s_scaled": t_direct, "gpu_vs_cpu_fmm": t_fmm / t_gpu, "gpu_vs_cpu_direct": t_direct / t_gpu,
            "max_rel_diff_gpu_vs_fmm": float(np.abs(gpu - fmm).max() / scale),
            "max_rel_diff_gpu_vs_cpu_direct": float(np.abs(gpu[:subset] - direct).max() / scale)}


def load_mesh(path: str) -> HeadMesh:
    data = np.load(path)
    return HeadMesh(np.asarray(data["nodes"], float), np.asarray(data["tets"], np.int64),
                    np.asarray(data["tags"], np.int64), name=Path(path).stem)


def fem_case(head, coil, poses, order: int, backend: str, *, batched: bool = True, second: bool = True) -> dict:
    """Setup, first and next placement, batch of 8 per placement; E of the first placement."""
    sync = _sync if backend is GPU else (lambda: None)
    sync()
    start = time.perf_counter()
    solver = tf.FieldSolver(head, order=order, backend=backend)
    sync()
    out = {"backend": getattr(backend, "name", backend), "order": order, "setup_s": time.perf_counter() - start,
           "setup_stages": {k: round(v, 3) for k, v in solver.timings.items()}, "n_dofs": solver.n_dofs}
    start = time.perf_counter()
    first = solver.solve(coil, poses[0], didt=DIDT)
    out["first_s"] = time.perf_counter() - start
    out["first_stages"] = {k: round(v, 3) for k, v in first.timings.items() if k not in solver.timings}
    out["iterations"] = first.provenance["solver"]["iterations"]
    out["preconditioner"] = first.provenance["solver"]["preconditioner"]
    if second:
        start = time.perf_counter()
        nxt = solver.solve(coil, poses[1], didt=DIDT)
        out["next_s"] = time.perf_counter() - start
        out["next_stages"] = {k: round(v, 3) for k, v in nxt.timings.items() if k not in solver.timings}
    if batched:
        batch = poses[2:10]
        start = time.perf_counter()
        results = solver.solve_many(coil, batch, didt=DIDT, warm_start=False, verbose=False)
        out["batched_s_per_placement"] = (time.perf_counter() - start) / len(batch)
        out["batched_iterations"] = results[0].provenance["solver"]["iterations"]
    out["E"] = first.E
    return out


def warm_up(args) -> float:
    """One small P1 and P2 solve on the GPU: cupy compiles its kernels on first use."""
    start = time.perf_counter()
    head = load_mesh(args.adm_mesh)
    pose = tf.CoilPose.on_head(head, center=CENTRES[0])
    for order in (1, 2):
        tf.FieldSolver(head, order=order, backend=GPU).solve(tf.coils.figure8(model="dipoles"), pose, didt=DIDT)
    return time.perf_counter() - start


def section_fem(args) -> dict:
    cold = warm_up(args)
    head = load_mesh(args.mesh)
    coil = tf.coils.figure8(model="dipoles")
    poses = [tf.CoilPose.on_head(head, center=c) for c in CENTRES]
    out = {"mesh": Path(args.mesh).name, "tets": head.n_tets, "nodes": head.n_nodes, "coil": coil.name,
           "coil_dipoles": len(coil.dipole_positions), "cold_start_s": cold, "cases": []}
    for order in (1, 2):
        gpu = fem_case(head, coil, poses, order, GPU)
        cpu = None
        if order == 1 or args.cpu_p2:
            cpu = fem_case(head, coil, poses, order, "cpu", batched=order == 1, second=order == 1)
            scale = np.linalg.norm(cpu["E"], axis=1).max()
            gpu["max_rel_diff_E_vs_cpu"] = float(np.abs(gpu["E"] - cpu["E"]).max() / scale)
            gpu["first_speedup_vs_cpu"] = cpu["first_s"] / gpu["first_s"]
        out["cases"] += [gpu] + ([cpu] if cpu else [])
        if order == 1:
            out["_p1_E_gpu"] = gpu["E"]
        print(json.dumps({k: v for k, v in gpu.items() if k != "E"}, default=float), flush=True)
    for case in out["cases"]:
        case.pop("E")
    return out


def section_cunibs(args, p1_E=None) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gpu_cunibs
    reason = gpu_cunibs.available()
    if reason:
        return {"skipped": reason}
    head = load_mesh(args.mesh)
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.on_head(head, center=CENTRES[0])
    placed = coil.transformed(pose.matrix)
    conductivity = head.conductivity()
    sigma = {int(t): float(conductivity[np.flatnonzero(head.tags == t)[0]]) for t in np.unique(head.tags)}
    run = gpu_cunibs.run_cunibs(head.nodes, head.tets, head.tags, sigma, placed.dipole_positions,
                                placed.dipole_moments, DIDT)
    out = {"setup_s": run["setup_s"], "solve_s": run["solve_s"], "notes": run["notes"]}
    if p1_E is not None:
        ours, theirs = np.linalg.norm(p1_E, axis=1), np.linalg.norm(run["E"], axis=1)
        out["magE_max_rel_diff_vs_ours_P1"] = float(np.abs(ours - theirs).max() / ours.max())
        out["magE_p99_ours"] = float(np.percentile(ours, 99))
        out["magE_p99_cunibs"] = float(np.percentile(theirs, 99))
        out["magE_median_rel_diff"] = float(np.median(np.abs(ours - theirs) / np.maximum(ours, 1e-12)))
    return out


def load_surfaces(path: str):
    data = np.load(path)
    return [(data[f"v{i}"], data[f"f{i}"]) for i in range(sum(k.startswith("v") for k in data.files))]


def section_bem(args) -> dict:
    from tmsfield.solver.bem.charge_field import ChargeField
    from tmsfield.solver.bem.interfaces import Interfaces
    from tmsfield.solver.bem.solver import BEMSolver
    start = time.perf_counter()
    surf = Interfaces.from_surfaces(load_surfaces(args.surfaces), tags=(3, 4, 5))
    out = {"facets": surf.n_facets, "interfaces_s": time.perf_counter() - start}
    start = time.perf_counter()
    solver = BEMSolver(surf, backend=GPU)
    out["setup_s"] = time.perf_counter() - start
    out["setup_stages"] = {k: round(v, 3) for k, v in solver.timings.items()}
    out["far_field"] = solver.charges.far_field
    density = np.random.default_rng(0).normal(size=surf.n_facets)
    solver.charges.normal_field(density)                                    # warm-up (kernels)
    gpu_times = []
    for _ in range(3):
        gpu, t = _clock(solver.charges.normal_field, density)
        gpu_times.append(t)
    cpu_charges = ChargeField(surf, far_field="fmm")
    cpu_charges._near_matrices = solver.charges._near_matrices              # the same near field
    cpu_times = []
    for _ in range(2):
        t0 = time.perf_counter()
        cpu = cpu_charges.normal_field(density)
        cpu_times.append(time.perf_counter() - t0)
    out.update(matvec_gpu_s=min(gpu_times), matvec_cpu_fmm_s=min(cpu_times),
               matvec_speedup=min(cpu_times) / min(gpu_times),
               matvec_rel_diff_gpu_vs_fmm=float(np.linalg.norm(gpu - cpu) / np.linalg.norm(cpu)))
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.from_axes([0, 0, 0.099], [0, 0, -1], [0, 1, 0])
    start = time.perf_counter()
    result = solver.solve(coil, pose, didt=DIDT)
    out["solve_gpu_s"] = time.perf_counter() - start
    out["solve_stages"] = {k: round(v, 3) for k, v in result.timings.items() if k not in solver.timings}
    out["gmres_iterations"] = result.provenance["solver"]["iterations"]
    out["solve_cpu_estimate_s"] = out["gmres_iterations"] * min(cpu_times)
    return out


#: four spheres (brain, 1.5 mm CSF, bone, scalp) of the thin-layer BEM study, mm, and the facet
#: sizes (mm) of the prepared surfaces
THIN_CSF_RADII_MM = (78.0, 79.5, 86.0, 92.0)
THIN_CSF_FACETS_MM = (5.8, 2.9, 2.0)


def section_bem_thin(args) -> dict:
    """BEM accuracy and set-up on the four spheres with a 1.5 mm CSF layer at several facet sizes
    (inputs ``.gpu/thin_csf_<h>mm.npz``): near field, far field and GMRES on the GPU; E against
    the analytic field (Heller & van Hulsteyn) at 2,000 points on spheres of 60 and 70 mm
    (validation/bem_intermediate_study.py's figure-8 dipole model 4 mm above). The smallest case
    is also set up on the CPU (``backend="cpu"``) for the near field's GPU-vs-CPU time."""
    from tmsfield.solver.bem import BEMSolver, Interfaces
    from tmsfield.validation.analytic import relative_l2
    from tmsfield.validation.bem_sphere_study import fibonacci_sphere, reference, sources
    coil, _ = sources()["figure-8 (dipole model)"]
    pose = tf.CoilPose.from_axes(center=[0, 0, 1e-3 * THIN_CSF_RADII_MM[-1] + 0.004], normal=[0, 0, -1],
                                 handle=[0, 1, 0])
    points = {r: fibonacci_sphere(r * 1e-3, 2000) for r in (60, 70)}
    exact = {r: reference(p, coil, pose) for r, p in points.items()}
    cases = []
    files = sorted(Path(args.thin_surfaces).glob("thin_csf_*mm.npz"), key=lambda f: -float(f.stem[9:-2]))
    for i, path in enumerate(files):
        surf = Interfaces.from_surfaces(load_surfaces(path), tags=(2, 3, 4, 5))
        row = {"file": path.name, "facets": surf.n_facets, "mean_edge_mm": 1e3 * surf.mean_edge_length}
        if i == 0:                      # the CPU's set-up of the smallest case, for the ratio
            cpu, row["setup_cpu_s"] = _clock(BEMSolver, surf, backend="cpu")
            row["setup_stages_cpu"] = {k: round(v, 3) for k, v in cpu.timings.items()}
            del cpu
        solver, row["setup_gpu_s"] = _clock(BEMSolver, surf, backend=GPU)
        row["setup_stages_gpu"] = {k: round(v, 3) for k, v in solver.timings.items()}
        result, t = _clock(solver.solve, coil, pose, didt=DIDT)
        row.update(solve_s=t, gmres_iterations=result.provenance["solver"]["iterations"],
                   near_pairs=int(solver.charges.near_exact.nnz))
        row["error_percent"] = {f"{r} mm": 100 * relative_l2(result.sample(p), exact[r]) for r, p in points.items()}
        cases.append(row)
        print(" bem_thin", json.dumps(row, default=float), flush=True)
    return {"radii_mm": THIN_CSF_RADII_MM, "cases": cases}


def section_adm(args) -> dict:
    from tmsfield.optimize.placement import optimize_placement
    head = load_mesh(args.adm_mesh)
    coil = tf.coils.figure8()
    target = (0.005, 0.01, 0.07)
    out = {"mesh": Path(args.adm_mesh).name, "tets": head.n_tets, "coil": coil.name, "positions": 100,
           "angles": 360, "cases": []}
    maps = {}
    for backend in (GPU, "cpu"):
        start = time.perf_counter()
        solver = tf.FieldSolver(head, order=2, backend=backend)
        setup = time.perf_counter() - start
        res = optimize_placement(head, coil, target, solver=solver, n_positions=100, angle_step_deg=1.0,
                                 verify=False, verbose=False)
        evaluations = res.values.size
        t = res.timings
        name = getattr(backend, "name", backend)
        maps[name] = res.values
        out["cases"].append({"backend": name, "solver_setup_s": setup, "timings": {k: round(v, 3) for k, v in t.items()},
                             "evaluations": evaluations, "evals_per_s_incl_grid_fields":
                             evaluations / (t["grid fields"] + t["rotations"]),
                             "evals_per_s_incl_all": evaluations / (t["total"] + setup)})
    gpu_map, cpu_map = maps.values()
    out["max_rel_diff_gpu_vs_cpu"] = float(np.abs(gpu_map - cpu_map).max() / np.abs(cpu_map).max())
    out["grid_fields_speedup"] = out["cases"][1]["timings"]["grid fields"] / out["cases"][0]["timings"]["grid fields"]
    return out


def section_tests(args) -> dict:
    root = Path(__file__).resolve().parents[1]
    files = [str(root / "tests" / name) for name in ("test_backends.py", "test_coil_fields.py", "test_optimize.py")]
    env = {**os.environ, "TMSFIELD_TEST_MESHES": str(Path(args.test_meshes).resolve())}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "gpu", "-p", "no:cacheprovider", *files],
                          capture_output=True, text=True, cwd=root, env=env)
    return {"returncode": proc.returncode, "tail": proc.stdout[-3000:] + proc.stderr[-2000:]}


SECTIONS = {"tests": section_tests, "primary": section_primary, "fem": section_fem, "cunibs": section_cunibs,
            "bem": section_bem, "bem_thin": section_bem_thin, "adm": section_adm}


def _f(value, digits=3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _fem_rows(fem: dict) -> list[str]:
    rows = ["| P | backend | setup (s) | first (s) | next (s) | batched (s / placement, 8) | CG its (single / batch) "
            "| stages of next (s) | max |ΔEᵢ| / max ‖E‖ vs CPU |", "|---|---|---:|---:|---:|---:|---|---|---:|"]
    for c in fem["cases"]:
        stages = ", ".join(f"{k} {v}" for k, v in c.get("next_stages", c["first_stages"]).items())
        rows.append(f"| {c['order']} | {c['backend']} | {_f(c['setup_s'])} | {_f(c['first_s'])} | "
                    f"{_f(c.get('next_s'))} | {_f(c.get('batched_s_per_placement'))} | {c['iterations']} / "
                    f"{c.get('batched_iterations', '—')} | {stages} | {_f(c.get('max_rel_diff_E_vs_cpu'), 2)} |")
    return rows


def _fem_ratios(fem: dict) -> list[str]:
    by = {(c["order"], c["backend"]): c for c in fem["cases"]}
    lines = []
    for order in (1, 2):
        gpu, cpu = by.get((order, "gpu")), by.get((order, "cpu"))
        if not (gpu and cpu):
            continue
        parts = [f"first placement {cpu['first_s'] / gpu['first_s']:.1f}×"]
        if "next_s" in cpu:
            parts.append(f"next {cpu['next_s'] / gpu['next_s']:.1f}×")
        if "batched_s_per_placement" in cpu:
            parts.append(f"batched {cpu['batched_s_per_placement'] / gpu['batched_s_per_placement']:.1f}×")
        parts.append(f"setup {cpu['setup_s'] / gpu['setup_s']:.1f}×")
        lines.append(f"- P{order}, GPU vs CPU: " + ", ".join(parts))
    return lines


def _targets(fem: dict) -> list[str]:
    """The issue's targets for P1 on ≈1M tetrahedra: < 1 s per placement after setup, ≥ 20× the CPU."""
    by = {(c["order"], c["backend"]): c for c in fem["cases"]}
    gpu, cpu = by.get((1, "gpu")), by.get((1, "cpu"))
    if not (gpu and cpu and "next_s" in cpu):
        return []
    single, batched = cpu["next_s"] / gpu["next_s"], cpu["batched_s_per_placement"] / gpu["batched_s_per_placement"]
    return [f"Targets (P1, ≈1M tetrahedra): a placement after setup in < 1 s: {gpu['next_s']:.3f} s "
            f"({'met' if gpu['next_s'] < 1 else 'missed'}); ≥ 20× the 2-core CPU path: {single:.1f}× one placement "
            f"at a time ({'met' if single >= 20 else 'missed'}), {batched:.1f}× batched "
            f"({'met' if batched >= 20 else 'missed'})."]


def markdown(record: dict) -> str:
    """The record as tables (``--render`` re-renders a saved gpu.json)."""
    d, sec = record["device"], record["sections"]
    lines = [f"# GPU path: figures on an {d['gpu']}", "",
             f"Device: {d['gpu']} ({d['gpu_memory_gb']} GiB), cupy {d['cupy']}, CUDA runtime {d['cuda_runtime']}, "
             f"numpy {d['numpy']}, Python {d['python']}. CPU side: {d['cpu']}, {d['cpu_cores_usable']} of the "
             f"machine's {d['cpu_cores_machine']} cores (the whole command ran under `taskset -c 0,1`, so the CPU "
             f"figures are the 2-core CPU path). Date {record['date']}; command `{record['command']}` "
             "(benchmarks/gpu.py). Every CPU figure comes from the same run; errors, where a section failed, are "
             "in gpu.json.", ""]
    for name, section in sec.items():
        if "error" in section or "skipped" in section:
            lines += [f"## {name}", "", f"Not measured: {section.get('skipped') or 'failed (see gpu.json)'}", ""]
    if "tests" in sec and "returncode" in sec["tests"]:
        tail = sec["tests"]["tail"].strip().splitlines()[-1]
        lines += ["## GPU tests", "", f"`pytest -m gpu` on the device (test_backends, test_coil_fields, "
                  f"test_optimize): {tail} (return code {sec['tests']['returncode']}).", ""]
    p = sec.get("primary", {})
    if "gpu_direct_s" in p:
        lines += ["## Primary field: A of 2,000 magnetic dipoles at 1M points", "",
                  "| GPU direct (s) | CPU FMM (s) | CPU direct (s, 10k points × 100) | GPU vs CPU FMM | GPU vs CPU direct "
                  "| max rel. diff GPU vs FMM | vs CPU direct |", "|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {_f(p['gpu_direct_s'])} | {_f(p['cpu_fmm_s'])} | {_f(p['cpu_direct_s_scaled'])} | "
                  f"{p['gpu_vs_cpu_fmm']:.0f}× | {p['gpu_vs_cpu_direct']:.0f}× | {_f(p['max_rel_diff_gpu_vs_fmm'], 2)} | "
                  f"{_f(p['max_rel_diff_gpu_vs_cpu_direct'], 2)} |", ""]
    fem = sec.get("fem", {})
    if "cases" in fem:
        lines += [f"## FEM on {fem['tets']:,} tetrahedra ({fem['mesh']}, 3-layer sphere), {fem['coil']}", "",
                  f"first = the first placement after setup; next = a second placement (cold CG start); batched = "
                  f"8 placements by block CG. One-off cupy kernel compilation, done by a small warm-up solve "
                  f"before the timings: {fem['cold_start_s']:.1f} s. The P2 CPU case ran setup and one placement.", ""]
        lines += _fem_rows(fem) + [""] + _fem_ratios(fem) + [""] + _targets(fem) + [""]
    cu = sec.get("cunibs", {})
    if "solve_s" in cu:
        ours = next((c for c in fem.get("cases", []) if c["order"] == 1 and c["backend"] == "gpu"), None)
        lines += ["## cuNIBS 0.5.0 on the same mesh and coil (P1)", "",
                  "| | setup (s) | per placement (s) | ‖E‖ vs ours, max rel. diff | median rel. diff |",
                  "|---|---:|---:|---:|---:|",
                  f"| cuNIBS | {_f(cu['setup_s'])} | {_f(cu['solve_s'])} | {_f(cu['magE_max_rel_diff_vs_ours_P1'], 2)} | "
                  f"{_f(cu['magE_median_rel_diff'], 2)} |"]
        if ours:
            lines.append(f"| tmsfield P1, GPU | {_f(ours['setup_s'])} | {_f(ours['next_s'])} (batched "
                         f"{_f(ours['batched_s_per_placement'])}) | | |")
        lines += ["", f"How cuNIBS was driven: {cu['notes']}", ""]
    b = sec.get("bem", {})
    if "matvec_gpu_s" in b:
        lines += [f"## BEM on {b['facets']:,} facets (3 nested spheres)", "",
                  "| set-up (s) | stages (s) | far field | product GPU (s) | product CPU FMM (s) | GPU vs CPU | "
                  "rel. diff GPU vs FMM | solve GPU (s) | GMRES its | solve CPU (s, its × CPU product) |",
                  "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {_f(b['setup_s'])} | " + ", ".join(f"{k} {v}" for k, v in b["setup_stages"].items())
                  + f" | {b['far_field']} | {_f(b['matvec_gpu_s'])} | {_f(b['matvec_cpu_fmm_s'])} | "
                  f"{b['matvec_speedup']:.1f}× | {_f(b['matvec_rel_diff_gpu_vs_fmm'], 2)} | {_f(b['solve_gpu_s'])} | "
                  f"{b['gmres_iterations']} | {_f(b['solve_cpu_estimate_s'])} |", "",
                  "The set-up (near field, ILU) runs on the CPU in both cases; the difference of the two products "
                  "is the FMM's (eps 1e-3).", ""]
    t = sec.get("bem_thin", {})
    if "cases" in t:
        lines += [f"## BEM accuracy on thin CSF: spheres {'/'.join(f'{r:g}' for r in t['radii_mm'])} mm, near and far "
                  "field on the GPU", "",
                  "Relative L2 error of E against the analytic field at 2,000 points on spheres of 60 and 70 mm "
                  "(figure-8 dipole model 4 mm above the scalp; validation/bem_intermediate_study.py's case).", "",
                  "| facets (mean edge) | near pairs | set-up GPU (s) | stages (s) | set-up CPU (s) | solve GPU (s) "
                  "| GMRES its | 60 mm | 70 mm |", "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
        for c in t["cases"]:
            stages = ", ".join(f"{k} {v}" for k, v in c["setup_stages_gpu"].items())
            err = c["error_percent"]
            lines.append(f"| {c['facets']:,} ({c['mean_edge_mm']:.2f} mm) | {c['near_pairs']:,} | "
                         f"{_f(c['setup_gpu_s'])} | {stages} | {_f(c.get('setup_cpu_s'))} | {_f(c['solve_s'])} | "
                         f"{c['gmres_iterations']} | {err['60 mm']:.3f} % | {err['70 mm']:.3f} % |")
        lines.append("")
    a = sec.get("adm", {})
    if "cases" in a:
        lines += [f"## Placement search (reciprocity + ADM), {a['positions']} positions × {a['angles']} handle angles, "
                  f"P2 on {a['tets']:,} tetrahedra ({a['coil']})", "",
                  "| backend | solver setup (s) | reciprocal solves (s) | grid fields (s) | rotations (s) | "
                  "evaluations/s incl. grid fields | incl. all set-up |", "|---|---:|---:|---:|---:|---:|---:|"]
        for c in a["cases"]:
            t = c["timings"]
            lines.append(f"| {c['backend']} | {_f(c['solver_setup_s'])} | {_f(t['reciprocal solves'])} | "
                         f"{_f(t['grid fields'])} | {_f(t['rotations'])} | {c['evals_per_s_incl_grid_fields']:,.0f} | "
                         f"{c['evals_per_s_incl_all']:,.0f} |")
        lines += ["", f"Grid fields GPU vs CPU: {a['grid_fields_speedup']:.1f}×; the two maps agree to "
                  f"{_f(a['max_rel_diff_gpu_vs_cpu'], 2)} of their maximum (GPU: direct sums; CPU: FMM eps 1e-4).", ""]
    return "\n".join(lines)


def prepare(folder: Path = Path(".gpu")) -> None:
    """Write the inputs (see the module docstring); needs gmsh."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import real_scale

    def save_mesh(head, path):
        np.savez_compressed(path, nodes=head.nodes, tets=head.tets.astype(np.int32), tags=head.tags.astype(np.uint8))

    def save_surfaces(surfaces, path):
        np.savez_compressed(path, **{f"v{i}": v for i, (v, _) in enumerate(surfaces)},
                            **{f"f{i}": f.astype(np.int32) for i, (_, f) in enumerate(surfaces)})
    (folder / "test_meshes").mkdir(parents=True, exist_ok=True)
    save_mesh(tf.load_head(real_scale.mesh_file(2.5)), folder / "sphere_1M.npz")
    for edge in (0.012, 0.006):
        save_mesh(tf.head_models.concentric_spheres(edge_length=edge), folder / "test_meshes" / f"sphere_{1e3 * edge:g}mm.npz")
    radii = (0.085, 0.090, 0.095)
    edge_200k = float(np.sqrt(4 * np.pi * sum(r * r for r in radii) / (200_000 * np.sqrt(3) / 4)))
    save_surfaces(tf.head_models.sphere_surfaces(radii, edge_length=edge_200k), folder / "spheres_200k.npz")
    save_surfaces(tf.head_models.sphere_surfaces(radii, edge_length=0.012), folder / "spheres_small.npz")
    for h_mm in THIN_CSF_FACETS_MM:
        save_surfaces(tf.head_models.sphere_surfaces([1e-3 * r for r in THIN_CSF_RADII_MM], edge_length=1e-3 * h_mm),
                      folder / f"thin_csf_{h_mm:g}mm.npz")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mesh", default=".gpu/sphere_1M.npz")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--surfaces", default=".gpu/spheres_200k.npz")
    parser.add_argument("--adm-mesh", default=".gpu/test_meshes/sphere_6mm.npz")
    parser.add_argument("--thin-surfaces", default=".gpu", help="folder of the thin_csf_<h>mm.npz surfaces")
    parser.add_argument("--test-meshes", default=".gpu/test_meshes",
                        help="the test suite's sphere meshes as .npz (tests/conftest.py), for a machine without gmsh")
    parser.add_argument("--sections", default="tests,primary,fem,bem,adm,cunibs")
    parser.add_argument("--no-cpu-p2", dest="cpu_p2", action="store_false")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--render", metavar="GPU_JSON", help="only re-render gpu.md (beside it) from a saved record")
    parser.add_argument("--prepare", action="store_true", help="only write the inputs into .gpu/ (needs gmsh)")
    args = parser.parse_args()
    if args.prepare:
        prepare()
        return
    if args.render:
        record = json.loads(Path(args.render).read_text())
        Path(args.render).with_suffix(".md").write_text(markdown(record))
        return
    global GPU, DRY_RUN
    if args.dry_run:
        from tmsfield.core.backend import emulated_backend
        GPU, DRY_RUN = emulated_backend(), True
    record = {"device": device_description(), "date": time.strftime("%Y-%m-%d"),
              "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "sections": {}}
    print(json.dumps(record["device"]), flush=True)
    p1_E = None
    for name in args.sections.split(","):
        start = time.perf_counter()
        try:
            if name == "cunibs":
                result = section_cunibs(args, p1_E)
            else:
                result = SECTIONS[name](args)
            if name == "fem":
                p1_E = result.pop("_p1_E_gpu", None)
        except Exception:  # noqa: BLE001 - a failed section is recorded; the others still run
            result = {"error": traceback.format_exc()[-3000:]}
        result["section_wall_s"] = time.perf_counter() - start
        record["sections"][name] = result
        print(name, json.dumps(result, default=float)[:3000], flush=True)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "gpu.json").write_text(json.dumps(record, indent=1, default=float))
        (out / "gpu.md").write_text(markdown(record))


if __name__ == "__main__":
    main()
