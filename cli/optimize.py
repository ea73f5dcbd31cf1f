"""``tmsfield optimize``: best coil position and handle angle for a target (reciprocity + ADM)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from .options import head_from_spec, load_coil, vector


@click.command()
@click.option("--head", "head_spec", default="demo", show_default=True,
              help="'demo' (built-in folded head), 'sphere' (3-layer sphere 85/90/95 mm) or a head mesh "
                   "(.msh in mm, .msh.gz, .vtu in m).")
@click.option("--edge-length-mm", type=float, default=None,
              help="Edge length of a built-in head (demo: 0.8-8, default its standard resolution; sphere: 6).")
@click.option("--order", type=click.IntRange(1, 2), default=2, show_default=True, help="FEM element order.")
@click.option("--coil", "coil_spec", default="figure8", show_default=True,
              help="Built-in coil name (figure8, circular) or a SimNIBS .ccd/.tcd file.")
@click.option("--target-mm", required=True, help="Target point in the brain (mm), e.g. '10,0,75'.")
@click.option("--direction", default=None,
              help="Field direction to maximise (x,y,z); default: the field magnitude |E|.")
@click.option("--objective", type=click.Choice(["max", "focality"]), default="max", show_default=True,
              help="max: strongest field at the target; focality: |E| at the target over the largest "
                   "|E| at 6 points 15 mm around it.")
@click.option("--radius-mm", default=20.0, show_default=True, help="Search radius on the scalp (mm).")
@click.option("--positions", "n_positions", default=100, show_default=True, help="Scalp positions searched.")
@click.option("--angle-step-deg", default=1.0, show_default=True, help="Handle-angle step (degrees).")
@click.option("--handle", default="0,1,0", show_default=True, help="Reference handle direction (angle 0).")
@click.option("--distance-mm", default=4.0, show_default=True, help="Coil-scalp distance (mm).")
@click.option("--didt", default=1e6, show_default=True, help="Coil current slope dI/dt (A/s).")
@click.option("--no-verify", is_flag=True, help="Skip the full FEM solve of the winning placement.")
@click.option("--out", "out_dir", default="tmsfield_optimize", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (best_matsimnibs.txt in mm, placement.npz for tf.load_result, summary.txt, "
                   "summary.json).")
@click.option("--quiet", is_flag=True, help="Only errors; no progress or summary.")
def optimize(head_spec, edge_length_mm, order, coil_spec, target_mm, direction, objective, radius_mm, n_positions,
             angle_step_deg, handle, distance_mm, didt, no_verify, out_dir, quiet):
    """Find the coil position and handle angle that maximise the field (or its focality) at a
    target, by reciprocity and the auxiliary dipole method; the winner is checked by a full solve.

    \b
    Examples:
      tmsfield optimize --head sphere --target-mm 10,0,75        # sphere head, |E| at the target
      tmsfield optimize --head ernie.msh --coil Magstim_70mm_Fig8.ccd --target-mm -40,-15,60 \\
          --direction -1,1,0 --positions 400 --radius-mm 25 --out ernie_m1
    """
    import tmsfield as tf

    from ..core.files import replaced_folder
    from ..core.progress import set_verbose
    set_verbose(not quiet)
    with replaced_folder(out_dir, names=OUTPUTS, note="tmsfield optimize\n") as staging:
        head = head_from_spec(head_spec, edge_length_mm, verbose=not quiet)[0]
        coil = load_coil(coil_spec)
        result = tf.optimize_placement(
            head, coil, [v * 1e-3 for v in vector(target_mm, "--target-mm")],
            direction=None if direction is None else vector(direction, "--direction"), objective=objective,
            radius=radius_mm * 1e-3, n_positions=n_positions, angle_step_deg=angle_step_deg,
            handle=vector(handle, "--handle"), distance=distance_mm * 1e-3, didt=didt, order=order,
            verify=not no_verify, verbose=not quiet)
        _write_outputs(result, staging)
    if not quiet:
        click.echo(result.summary())
        click.echo(f"wrote {out_dir}/best_matsimnibs.txt, placement.npz, summary.txt, summary.json")


#: the files `optimize` writes into its output folder
OUTPUTS = ("best_matsimnibs.txt", "placement.npz", "summary.txt", "summary.json")


def _write_outputs(result, out: Path) -> None:
    import numpy as np

    from ..core.files import write_text_atomic
    write_text_atomic(out / "best_matsimnibs.txt",
                      "\n".join(" ".join(f"{v:.9g}" for v in row) for row in result.matsimnibs) + "\n")
    result.save(out / "placement.npz")            # the whole objective map; tf.load_result reads it
    write_text_atomic(out / "summary.txt", result.summary() + "\n")
    verification = {k: (np.asarray(v).tolist() if not isinstance(v, (bool, int, float)) else v)
                    for k, v in result.verification.items()}
    record = {"best": {"matsimnibs_mm": result.matsimnibs.tolist(), "value": float(result.values[result.best]),
                       "handle_angle_deg": result.best_angle_deg, "position_index": result.best[0]},
              "verification": verification, "timings_s": result.timings, "provenance": result.provenance}
    write_text_atomic(out / "summary.json", json.dumps(record, indent=2) + "\n")
