"""P2 load vector: the primary field interpolated from the DOFs or taken at the load rule's points.

    python -m tmsfield.validation.fem_primary_load [--out validation/results]

FEMOptions.primary_load "dofs" integrates −∫σ∇N·∂A/∂t with ∂A/∂t interpolated in the P2 space
from its values at the 10 DOF points per element; "rule" evaluates the coil's ∂A/∂t at the 5
points of the load rule in every element instead. Scored on the 3-layer sphere against the
analytic field (Heller & van Hulsteyn; regions and metrics as validation/fem_sphere_study.py:
shell = centroids at 60–80 mm, inner = volume-weighted r < 85 mm, interfaces = within 2 mm of
85 and 90 mm), on SimNIBS' sphere3.msh (shared data; skipped when absent) and gmsh spheres of 8
and 6 mm, for the study's sources plus the tilted dipole moved to 10 and 25 mm above the scalp.
Writes fem_primary_load.md; the solve time is the whole ``FEMSolver.solve`` per placement.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.solver.options import FEMOptions
from tmsfield.validation.fem_sphere_study import RADII, RESULTS, SIMNIBS_SPHERE, TAGS, errors, sources

LOADS = ("dofs", "rule")
SCORES = ("shell element", "inner sphere element", "interfaces element")


def cases() -> dict:
    """The fem_sphere_study sources plus the tilted dipole at 10 and 25 mm above the 95 mm scalp,
    at the same (x, y) = (20, 10) mm and with the same moment direction."""
    out = dict(sources())
    tilted, identity = out["tilted dipole"]
    for height in (0.010, 0.025):
        z = np.sqrt((RADII[-1] + height) ** 2 - 0.020 ** 2 - 0.010 ** 2)
        coil = tf.Coil(dipole_positions=[[0.020, 0.010, z]], dipole_moments=tilted.dipole_moments,
                       name=f"tilted dipole {1e3 * height:.0f} mm above")
        out[coil.name] = (coil, identity)
    return out


def run(head, label: str) -> list[dict]:
    rows = []
    for load in LOADS:
        solver = tf.FieldSolver(head, options=FEMOptions(order=2, primary_load=load))
        for name, (coil, pose) in cases().items():
            t0 = time.perf_counter()
            result = solver.solve(coil, pose, didt=1e6)
            rows.append({"mesh": label, "tets": head.n_tets, "load": load, "source": name,
                         "errors": errors(head, result, coil, pose), "solve_s": time.perf_counter() - t0,
                         "primary_s": result.timings["primary field"]})
            print(rows[-1], flush=True)
    return rows


def markdown(rows) -> str:
    lines = ["# P2 load vector: primary field interpolated (dofs) or at the load rule's points (rule)", "",
             f"`python -m tmsfield.validation.fem_primary_load` — {platform.machine()}, 2-core VM, Python "
             f"{platform.python_version()}. Relative L2 error of E at the element centroids against the analytic "
             "field (both loads use the exact primary field at the centroids); times per placement, "
             "indicative (the machine ran a second job).", "",
             "| mesh | source | " + " | ".join(f"{s} dofs / rule" for s in SCORES) + " | primary field (s) dofs / rule "
             "| solve (s) dofs / rule |", "|---|---|" + "---:|" * (len(SCORES) + 2)]
    keyed = {(r["mesh"], r["source"], r["load"]): r for r in rows}
    for mesh, source in dict.fromkeys((r["mesh"], r["source"]) for r in rows):
        pair = [keyed[mesh, source, load] for load in LOADS]
        cells = [" / ".join(f"{100 * r['errors'][s]:.3f} %" for r in pair) for s in SCORES]
        cells += [" / ".join(f"{r[k]:.2f}" for r in pair) for k in ("primary_s", "solve_s")]
        lines.append(f"| {mesh} ({pair[0]['tets']} tets) | {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--simnibs-sphere", type=Path, default=SIMNIBS_SPHERE)
    args = parser.parse_args(argv)
    rows = []
    if args.simnibs_sphere.is_file():
        rows += run(tf.load_head(args.simnibs_sphere), "SimNIBS sphere3.msh")
    for h_mm in (8.0, 6.0):
        rows += run(tf.head_models.concentric_spheres(RADII, TAGS, edge_length=h_mm * 1e-3), f"gmsh {h_mm:g} mm")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "fem_primary_load.md", markdown(rows))


if __name__ == "__main__":
    main()
