"""Primary-field benchmark: direct sums vs FMM (fmm3dpy) on this machine, in one run.

Writes benchmarks/results/primary_field.{md,json}. Run from the repository root:
``python benchmarks/primary_field.py``. Times are the best of ``REPEATS`` runs; the ratio
direct/FMM is the figure to compare across machines. The same run measures the FMM error
against the direct (exact) sums, the crossover used for ``method="auto"``, and time and error
of the vector potential for several FMM precisions (the basis of ``coils.fmm.FMM_EPS``).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import common
import numpy as np

import tmsfield as tf
from tmsfield.coils import fmm
from tmsfield.core.files import write_text_atomic
from tmsfield.core.units import MU0_OVER_4PI

REPEATS = 3
N_POINTS = (1_000, 3_000, 10_000, 30_000, 100_000)
#: FMM precisions compared at the largest point set
EPS_SWEEP = (1e-3, 1e-4, 1e-5, 1e-6)
OUT = Path("benchmarks/results")


def best_time(fn):
    times, out = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def fmm_dadt(coil, pts, pose, eps, didt=1e6):
    """dA/dt (V/m) of ``coil`` at ``pose`` by the FMM at precision ``eps``: what
    ``coil.dadt(pts, pose, method="fmm")`` computes at ``fmm.FMM_EPS["A"]``, the precision passed
    as an argument (the module's default stays as it is)."""
    placed = coil.transformed(pose.matrix).scaled(didt)
    out = np.zeros_like(pts)
    if len(placed.dipole_positions):
        out += fmm.dipoles(pts, placed.dipole_positions, placed.dipole_moments, "A", eps=eps)
    if len(placed.segment_starts):
        out += fmm.segments(pts, placed.segment_starts, placed.segment_ends, placed.segment_weights, "A", eps=eps)
    return MU0_OVER_4PI * out


def eps_sweep(name, coil, pts, pose, ref):
    """Time and error of dA/dt by FMM at each precision in EPS_SWEEP, against ``ref``."""
    out = []
    for eps in EPS_SWEEP:
        t, a = best_time(lambda eps=eps: fmm_dadt(coil, pts, pose, eps))
        out.append({"coil": name, "eps": eps, "fmm_s": t,
                    "rel_error": float(np.linalg.norm(a - ref) / np.linalg.norm(ref)),
                    "max_error": float(np.abs(a - ref).max() / np.abs(ref).max())})
        print(out[-1], flush=True)
    return out


def main():
    rng = np.random.default_rng(0)
    pose = tf.CoilPose.from_axes([0, 0, 0.099], [0, 0, -1], [0, 1, 0])
    coils = {"figure-8 dipoles": tf.coils.figure8(model="dipoles"), "figure-8 wire": tf.coils.figure8()}
    rows, sweep = [], []
    for name, coil in coils.items():
        for n in N_POINTS:
            p = rng.normal(size=(n, 3))
            pts = 0.09 * p / np.linalg.norm(p, axis=1)[:, None] * rng.uniform(0, 1, (n, 1)) ** (1 / 3)
            t_direct, ref = best_time(lambda coil=coil, pts=pts: coil.dadt(pts, pose, method="direct", backend="cpu"))
            t_fmm, out = best_time(lambda coil=coil, pts=pts: coil.dadt(pts, pose, method="fmm"))
            err = float(np.linalg.norm(out - ref) / np.linalg.norm(ref))
            rows.append({"coil": name, "sources": coil.n_sources, "points": n,
                         "pairs": n * coil.n_sources, "direct_s": t_direct, "fmm_s": t_fmm,
                         "speedup": t_direct / t_fmm, "fmm_rel_error": err})
            print(rows[-1], flush=True)
        sweep += eps_sweep(name, coil, pts, pose, ref)
    machine = common.machine()
    lines = ["# Primary field dA/dt: direct sums vs FMM", "",
             f"Machine: {machine}; {time.strftime('%Y-%m-%d')}; best of {REPEATS}; "
             "`python benchmarks/primary_field.py`. Points uniform in a 90 mm ball, coil 4 mm above it.", "",
             "| coil | sources | points | pairs | direct (s) | FMM (s) | direct/FMM | FMM rel. error |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['coil']} | {r['sources']} | {r['points']} | {r['pairs']:.2e} | {r['direct_s']:.3f} | "
              f"{r['fmm_s']:.3f} | {r['speedup']:.1f} | {r['fmm_rel_error']:.1e} |" for r in rows]
    lines += ["", (f"FMM precision for A, {N_POINTS[-1]:,} points (error against the direct sums; "
                   f"`FMM_EPS['A']` = {fmm.FMM_EPS['A']:g}):"), "",
              "| coil | eps | FMM (s) | rel. L2 error | max error / max |A| |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['coil']} | {r['eps']:g} | {r['fmm_s']:.3f} | {r['rel_error']:.1e} | {r['max_error']:.1e} |"
              for r in sweep]
    OUT.mkdir(parents=True, exist_ok=True)
    write_text_atomic(OUT / "primary_field.md", "\n".join(lines) + "\n")
    write_text_atomic(OUT / "primary_field.json", json.dumps({"machine": machine, "rows": rows, "eps_sweep": sweep}, indent=2) + "\n")


if __name__ == "__main__":
    main()
