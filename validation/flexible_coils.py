"""Flexible and deep coils placed on the demo head: how close they come, what the fit costs.

    python -m tmsfield.validation.flexible_coils

1. The shared Brainsway H1 .tcd (SimNIBS' flexible model: 3 deformation parameters, casing
   with min-distance points) placed over several 10-10 positions of the demo head, handle
   towards Fpz, 0 mm gap (as SimNIBS' H1 example): the stored shape's deepest element inside the
   head, then the fit with SimNIBS' default ranges of its distance optimisation (tilts ±20°,
   ±20°, ±5°; shifts ±5, ±5, ±30 mm), always with the global search ("True": local searches from
   the pose and from DIRECT's optimum) and as by default ("auto": the local search from the pose,
   the global one only if the coil still intrudes): fitted deformation,
   minimum element–scalp and casing–scalp distances (exact, on the scalp triangles), mean
   distance of the casing's min-distance points, evaluations and time.
2. The built-in double cone and H-type coils at Cz, lifted clear by a rigid fit (shift along
   the axis, 4 mm wire–scalp gap), with the E-field's half-value depth and p99.9 in the brain.

Writes validation/results/flexible_coils.md (and .json). Skips part 1 without ../shared.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.coils.flexible_fit import FitOptions, fit_to_scalp
from tmsfield.core.files import write_text_atomic

OUT = Path(__file__).resolve().parent / "results" / "flexible_coils.md"
H1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "simnibs" / "Brainsway_H1.tcd"
POSITIONS = ("F3", "Fz", "AF3", "FC3")


def h1_rows(head, cap) -> list[dict]:
    coil = tf.coils.load(H1)
    rows = []
    for label in POSITIONS:
        pose = tf.CoilPose.on_head(head, cap[label], handle=cap["Fpz"] - cap[label], distance=0.0)
        stored = head.scalp.signed_distance(coil.transformed(pose.matrix).source_points())
        for global_search in (True, "auto"):
            fit = fit_to_scalp(head, coil, pose, FitOptions(gap=0.0, global_search=global_search), verbose=False)
            rows.append({"position": label, "global_search": str(global_search),
                         "stored_deepest_element_mm": round(-1e3 * float(stored.min()), 2),
                         "stored_elements_inside": int((stored < 0).sum()), **fit.record()})
    return rows


def deep_rows(head, cap) -> list[dict]:
    pose = tf.CoilPose.on_head(head, cap["Cz"], handle=cap["Fpz"] - cap["Cz"], distance=0.004)
    lift = FitOptions(gap=0.004, rotation_deg=None, translation_mm=((0, 0), (0, 0), (-60, 60)))
    rows = []
    for coil in (tf.coils.figure8(), tf.coils.double_cone(), tf.coils.h_coil()):
        fit = fit_to_scalp(head, coil, pose, lift, verbose=False)
        started = time.perf_counter()
        result = tf.simulate(head, fit.coil, fit.pose, didt=1e8, order=1, fit=False, verbose=False)
        brain = result.statistics()[2]
        rows.append({"coil": coil.name, "shift_mm": fit.adjustment["shift_mm"][2],
                     "min_element_distance_mm": round(fit.min_element_distance_mm, 2),
                     "half_value_depth_mm": round(1e3 * result.half_value_depth, 1),
                     "grey_p99.9_V_per_m": round(brain["p99.9_V_per_m"], 1),
                     "grey_volume_above_half_cm3": round(brain["volume_above_half_peak_cm3"], 1),
                     "solve_s": round(time.perf_counter() - started, 1)})
    return rows


def main():
    head = tf.head_models.demo_head()
    cap = tf.head_models.cap_10_10(head.scalp, tf.head_models.demo_head_fiducials())
    h1 = h1_rows(head, cap) if H1.is_file() else []
    deep = deep_rows(head, cap)
    machine = f"{platform.machine()}, {platform.python_version()}, {head.n_tets} tetrahedra (demo head, default)"
    lines = ["# Flexible and deep coils on the demo head", "",
             "`python -m tmsfield.validation.flexible_coils` — " + machine, ""]
    if h1:
        lines += ["## Brainsway H1 (.tcd from ../shared), handle towards Fpz, gap 0 mm", "",
                  "Stored shape: depth of its deepest element inside the head. Fit: SimNIBS' default ranges.", "",
                  "| position | global search | stored: deepest inside (mm) | deformation (deg) | tilt (deg) | "
                  "shift (mm) | min element–scalp (mm) | min casing–scalp (mm) | mean contact (mm) | evaluations | "
                  "time (s) |", "|" + "---|" * 11]
        for r in h1:
            lines.append(f"| {r['position']} | {r['global_search']} | "
                         f"{r['stored_deepest_element_mm']} | {list(r['deformation'].values())} | "
                         f"{r['adjustment']['rotation_deg']} | {r['adjustment']['shift_mm']} | "
                         f"{r['min_element_distance_mm']} | {r['min_casing_distance_mm']} | "
                         f"{r['mean_contact_distance_mm']} | {r['evaluations']} | {r['seconds']} |")
        lines += ["", "The H1's minDistancePoints lie on its windings, inside a tube-shaped casing: the windings "
                  "stay about 10 mm out while the casing touches the skin."]
    lines += ["", "## Deep coils at Cz (rigid, lifted to a 4 mm wire–scalp gap), dI/dt 100 A/µs, P1", "",
              "| coil | shift along z' (mm) | min wire–scalp (mm) | d½ (mm) | grey matter p99.9 (V/m) | "
              "grey matter > 50 % (cm³) | solve (s) |", "|" + "---|" * 7]
    for r in deep:
        lines.append(f"| {r['coil']} | {r['shift_mm']} | {r['min_element_distance_mm']} | {r['half_value_depth_mm']} | "
                     f"{r['grey_p99.9_V_per_m']} | {r['grey_volume_above_half_cm3']} | {r['solve_s']} |")
    write_text_atomic(OUT, "\n".join(lines) + "\n")
    write_text_atomic(OUT.with_suffix(".json"), json.dumps({"h1": h1, "deep": deep, "machine": machine},
                                                           indent=1, default=float))
    print("\n".join(lines))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
