"""repair_surfaces on a real adult surface set, and what the repair does to the field.

    python -m tmsfield.validation.surface_repair_real [--data PATH] [--out validation/results]

The Wakeman & Henson subject 1 three-shell model (shared data heads/wh_sub01_3shell: inner skull,
outer skull, scalp, 5,120 triangles each; nested as delivered) is repaired for minimum gaps of 1
to 4 mm between consecutive surfaces. For each gap: the gaps before and after (the 1st
percentile and minimum over the inner surface's vertices of the distance inside the next
surface), the vertices moved, the largest and mean move, the time, and whether
``from_surfaces`` tetrahedralises the result. The field check: the BEM (default settings,
figure-8, first placement of validation/bem_fem_head.py) on the original and on the repaired
surfaces, E compared on the cortex vertices (relative L2 difference), so that the cost of a
repair in field terms is on record.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.aabb import TriangleTree
from tmsfield.core.files import write_text_atomic
from tmsfield.head_models import repair_surfaces
from tmsfield.solver.bem import BEMSolver, Interfaces
from tmsfield.validation.analytic import relative_l2
from tmsfield.validation.bem_fem_head import DATA, RESULTS, TAGS, load, placements

GAPS_MM = (1.0, 2.0, 3.0, 4.0)
SURFACE_NAMES = ("inner skull", "outer skull", "scalp")


def gaps(surfaces) -> list[tuple[float, float]]:
    """(1st percentile, minimum) in m of how far each surface's vertices lie inside the next one."""
    out = []
    for (v, _), outer in zip(surfaces[:-1], surfaces[1:]):
        depth = -TriangleTree(*outer).signed_distance(v)
        out.append((float(np.percentile(depth, 1)), float(depth.min())))
    return out


def cortex_field(surfaces, pose, cortex) -> np.ndarray:
    solver = BEMSolver(Interfaces.from_surfaces(surfaces, tags=TAGS))
    return solver.solve(tf.coils.figure8(), pose, didt=1e6).sample(cortex)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    surfaces, cortex = load(args.data)
    name, (pose, where) = next(iter(placements(tf.head_models.from_surfaces(surfaces, tags=TAGS), cortex).items()))
    reference = cortex_field(surfaces, pose, cortex)
    before = gaps(surfaces)
    lines = ["# repair_surfaces on a real surface set (Wakeman & Henson subject 1, 3 shells)", "",
             f"`python -m tmsfield.validation.surface_repair_real` — {platform.machine()}, 2-core VM, Python "
             f"{platform.python_version()}. Gap = how far a surface's vertices lie inside the next surface "
             "(1st percentile / minimum). Field: BEM (default settings), figure-8, placement "
             f"'{name}' ({where}), E on the {len(cortex)} cortex vertices, repaired vs original surfaces "
             "(relative L2).", "",
             "As delivered: " + "; ".join(f"{SURFACE_NAMES[i]} inside {SURFACE_NAMES[i + 1]} by "
                                          f"{1e3 * p:.2f} / {1e3 * m:.2f} mm" for i, (p, m) in enumerate(before)), "",
             "| min_gap (mm) | surface | vertices moved | largest move (mm) | mean move (mm) | gap after (mm) | "
             "repair (s) | tetrahedralised | cortex E change |", "|" + "---|" * 9]
    for gap in GAPS_MM:
        t0 = time.perf_counter()
        repaired, reports = repair_surfaces(surfaces, min_gap=1e-3 * gap)
        seconds = time.perf_counter() - t0
        try:
            head = tf.head_models.from_surfaces(repaired, tags=TAGS)
            meshed = f"yes ({head.n_tets} tets)"
        except tf.TmsFieldError as error:
            meshed = f"no: {error}"
        change = relative_l2(cortex_field(repaired, pose, cortex), reference)
        after = gaps(repaired)
        for report in reports[:-1]:
            p, m = after[report.surface]
            lines.append(f"| {gap:g} | {SURFACE_NAMES[report.surface]} | {report.moved} | {1e3 * report.largest:.2f} "
                         f"| {1e3 * report.mean:.2f} | {1e3 * p:.2f} / {1e3 * m:.2f} | {seconds:.1f} | {meshed} | "
                         f"{100 * change:.2f} % |")
        print(lines[-2:], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "surface_repair_real.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
