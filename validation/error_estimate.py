"""The recovery-based error estimate against the true error on spheres (analytic field).

    python -m tmsfield.validation.error_estimate

Three-layer sphere (85/90/95 mm), figure-8 magnetic-shell model (8 mm cells: the analytic
field of Heller & van Hulsteyn 1992 is exact for the same dipoles) 4 mm above the top, P1 at
8, 6 and 4 mm mesh edges. True error: relative L2 of the solver's own field against the
analytic one, both at the degree-2 rule's points of every element; estimate: the result's
``error_estimate`` (solver/results/error_estimate.py); effectivity = estimate / true; and the
correlation of log per-element estimate with log per-element true error. Writes
validation/results/error_estimate.md.
"""
from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.solver.fem.elements import DEGREE2
from tmsfield.validation.analytic import sphere_e_field

OUT = Path(__file__).resolve().parent / "results" / "error_estimate.md"
EDGES_MM = (8, 6, 4)


def true_error(result, coil, pose) -> tuple[float, np.ndarray]:
    """(relative L2 error of the native field, per-element RMS error (M,) V/m) against the analytic field."""
    head, rule = result.head, DEGREE2
    m, q = head.n_tets, len(rule.weights)
    element, bary = np.repeat(np.arange(m), q), np.tile(rule.points, (m, 1))
    points = np.einsum("pc,pcd->pd", bary, head.nodes[head.tets[element]])
    placed = coil.transformed(pose.matrix)
    exact = sphere_e_field(points, placed.dipole_positions, placed.dipole_moments, didt=result.didt[0])
    err2 = ((result.native(points, element, bary) - exact) ** 2).sum(axis=1).reshape(m, q) @ rule.weights
    ref2 = (exact ** 2).sum(axis=1).reshape(m, q) @ rule.weights
    return float(np.sqrt((head.volumes * err2).sum() / (head.volumes * ref2).sum())), np.sqrt(err2)


def study(edges_mm=EDGES_MM) -> list[dict]:
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    rows = []
    for edge in edges_mm:
        head = tf.head_models.concentric_spheres(radii=(0.085, 0.09, 0.095), tags=(3, 4, 5), edge_length=1e-3 * edge)
        pose = tf.CoilPose.on_head(head, center=(0, 0, 0.095))
        result = tf.simulate(head, coil, pose, didt=1e6, order=1, verbose=False)
        started = time.perf_counter()
        estimate = result.error_estimate
        seconds = time.perf_counter() - started
        true, per_element = true_error(result, coil, pose)
        corr = np.corrcoef(np.log(estimate.per_element + 1e-30), np.log(per_element + 1e-30))[0, 1]
        rows.append({"edge_mm": edge, "n_tets": head.n_tets, "true": true, "estimate": estimate.relative,
                     "effectivity": estimate.relative / true, "log_correlation": float(corr),
                     "estimate_s": seconds, "solve_s": sum(result.timings.values())})
    return rows


def main():
    rows = study()
    lines = ["# Recovery-based error estimate vs the true error (3-layer sphere, figure-8, P1)", "",
             f"`python -m tmsfield.validation.error_estimate` — {platform.machine()}, Python "
             f"{platform.python_version()}", "",
             "| edge (mm) | tetrahedra | true rel. L2 | estimate | effectivity | log-correlation per element | "
             "estimate (s) | simulate (s) |", "|" + "---|" * 8]
    for r in rows:
        lines.append(f"| {r['edge_mm']} | {r['n_tets']} | {r['true']:.4f} | {r['estimate']:.4f} | "
                     f"{r['effectivity']:.2f} | {r['log_correlation']:.2f} | {r['estimate_s']:.2f} | "
                     f"{r['solve_s']:.1f} |")
    write_text_atomic(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
