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
- ``tests``: the GPU-marked tests (``pytest -m gpu``).

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
CENTRES = [(0.0, 0.0, 0.095), (0.02, 0.0, 0.093), (0.0, 0.02, 0.093), (-0.02, 0.0, 0.093), (0.0, -0.02, 0.093),
           (0.03, 0.03, 0.085), (-0.03, 0.03, 0.085), (0.03, -0.03, 0.085), (-0.03, -0.03, 0.085),
           (0.04, 0.0, 0.086)]


def _sync():
    import cupy
    cupy.cuda.Device().synchronize()


def _clock(function, *args, **kwargs):
    _sync()
    start = time.perf_counter()
    out = function(*args, **kwargs)
    _sync()
    return out, time.perf_counter() - start


def device_description() -> dict:
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
    points = rng.uniform(-0.09, 0.09, size=(1_000_000, 3)) * [1, 1, 0.5]
    vector_potential(coil, points[:1000], method="direct", backend="gpu")                 # warm-up (kernels)
    gpu, t_gpu = _clock(vector_potential, coil, points, method="direct", backend="gpu")
    start = time.perf_counter()
    fmm = vector_potential(coil, points, method="fmm", backend="cpu")
    t_fmm = time.perf_counter() - start
    subset = 50_000
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
    sync = _sync if backend == "gpu" else (lambda: None)
    sync()
    start = time.perf_counter()
    solver = tf.FieldSolver(head, order=order, backend=backend)
    sync()
    out = {"backend": backend, "order": order, "setup_s": time.perf_counter() - start,
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


def section_fem(args) -> dict:
    head = load_mesh(args.mesh)
    coil = tf.coils.figure8(model="dipoles")
    poses = [tf.CoilPose.on_head(head, center=c) for c in CENTRES]
    out = {"mesh": Path(args.mesh).name, "tets": head.n_tets, "nodes": head.n_nodes, "coil": coil.name,
           "coil_dipoles": len(coil.dipole_positions), "cases": []}
    for order in (1, 2):
        gpu = fem_case(head, coil, poses, order, "gpu")
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


def section_tests(args) -> dict:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
                           str(root / "tests")], capture_output=True, text=True, cwd=root)
    return {"returncode": proc.returncode, "tail": proc.stdout[-3000:] + proc.stderr[-2000:]}


SECTIONS = {"tests": section_tests, "primary": section_primary, "fem": section_fem, "cunibs": section_cunibs}


def markdown(record: dict) -> str:
    d = record["device"]
    lines = [f"# GPU path: figures on {d['gpu']}", "",
             f"Device: {d['gpu']} ({d['gpu_memory_gb']} GiB), cupy {d['cupy']}, CUDA runtime {d['cuda_runtime']}, "
             f"numpy {d['numpy']}, Python {d['python']}; CPU side: {d['cpu']}, {d['cpu_cores_usable']} of "
             f"{d['cpu_cores_machine']} cores usable by this process. Date {record['date']}. Command: "
             f"`{record['command']}`. Every CPU figure comes from the same run.", ""]
    for name, section in record["sections"].items():
        lines += [f"## {name}", "", "```", json.dumps(section, indent=1, default=float), "```", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mesh", default=".gpu/sphere_1M.npz")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--sections", default="tests,primary,fem,cunibs")
    parser.add_argument("--no-cpu-p2", dest="cpu_p2", action="store_false")
    args = parser.parse_args()
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
