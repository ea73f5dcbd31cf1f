"""Regions of interest on the demo head at C3: |E| under the coil by region size, P1 and P2.

    python -m tmsfield.validation.demo_c3_roi

A figure-8 (wire model, dI/dt 100 A/µs) 4 mm above C3 of the demo head's 10-10 cap (computed
from its fiducials), handle towards CP3. For spheres of brain (white and grey matter) centred
on the brain element nearest C3, the table gives |E| mean, median, p99 and max, P1 and P2 on the
default demo mesh; plus the scalp–cortex distance under the coil and the per-tissue focality
volumes. Writes validation/results/demo_c3_roi.md.
"""
from __future__ import annotations

from pathlib import Path

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.solver.results import SphereROI

OUT = Path(__file__).resolve().parent / "results" / "demo_c3_roi.md"
RADII_MM = (5, 10, 15, 20)
DIDT = 1e8


def study(resolution: str = "default") -> tuple[list[dict], dict]:
    head = tf.head_models.demo_head(resolution)
    cap = tf.head_models.cap_10_10(head.scalp, tf.head_models.demo_head_fiducials())
    pose = tf.CoilPose.on_head(head, center=cap["C3"], handle=cap["CP3"] - cap["C3"])
    rows, extra = [], {}
    for order in (1, 2):
        result = tf.simulate(head, tf.coils.figure8(), pose, didt=DIDT, order=order, verbose=False)
        for radius in RADII_MM:
            roi = SphereROI.under(head, cap["C3"], 1e-3 * radius, name=f"C3, {radius} mm")
            rows.append({"order": order, **roi.statistics(result)})
        extra[order] = {"placement": result.placement(), "statistics": result.statistics(), "n_tets": head.n_tets}
    return rows, extra


def main():
    rows, extra = study()
    lines = ["# Demo head, figure-8 at C3: |E| in regions of interest", "",
             f"`python -m tmsfield.validation.demo_c3_roi`: demo head ({extra[1]['n_tets']:,} tetrahedra), figure-8 "
             f"(wire model) 4 mm above C3 of its computed 10-10 cap, handle towards CP3, dI/dt {DIDT * 1e-6:g} A/µs. "
             "Regions: the brain (white and grey matter) within R of the brain element nearest C3.", "",
             "| P | region | elements | volume (cm³) | mean (V/m) | median | p99 | max |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['order']} | {r['name']} | {r['elements']} | {r['volume_cm3']:.3g} | {r['mean_V_per_m']:.4g} | "
              f"{r['median_V_per_m']:.4g} | {r['p99_V_per_m']:.4g} | {r['max_V_per_m']:.4g} |" for r in rows]
    where = extra[2]["placement"]
    lines += ["", f"Coil centre {where['center_mm']} mm, scalp–cortex distance under it "
              f"{where['scalp_cortex_distance_mm']:.1f} mm.", "",
              "| P | tissue | p99.9 (V/m) | volume > 50 % (cm³) | volume > 75 % (cm³) |", "|---|---|---:|---:|---:|"]
    for order in (1, 2):
        for s in extra[order]["statistics"].values():
            lines.append(f"| {order} | {s['tissue']} | {s['p99.9_V_per_m']:.4g} | {s['volume_above_half_peak_cm3']:.4g} | "
                         f"{s['volume_above_75pct_peak_cm3']:.4g} |")
    write_text_atomic(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
