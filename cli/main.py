"""``tmsfield``: command-line entry point. Thin: parses options, calls the API, reports."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from ..core.errors import TmsFieldError

log = logging.getLogger("tmsfield")

DEFAULT_SPHERE_MM = (85.0, 90.0, 95.0)
DEFAULT_SPHERE_TAGS = (3, 4, 5)


def _vector(text: str, what: str):
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"{what} must be three numbers like '0,0,95', got {text!r}") from None
    if len(values) != 3:
        raise click.BadParameter(f"{what} must have three components, got {text!r}")
    return values


def _conductivities(items):
    out = {}
    for item in items:
        try:
            tag, value = item.split("=")
            out[int(tag)] = float(value)
        except ValueError:
            raise click.BadParameter(f"--conductivity takes TAG=S_PER_M (e.g. 3=1.654), got {item!r}") from None
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tmsfield")
def main():
    """Electric fields induced by TMS coils in head models."""


@main.command()
@click.option("--head", "head_path", type=click.Path(dir_okay=False),
              help="Head mesh (.msh in mm as SimNIBS writes it, .msh.gz, or .vtu in m). "
                   "Default: a 3-layer sphere (radii 85/90/95 mm).")
@click.option("--edge-length-mm", default=6.0, show_default=True,
              help="Mesh edge length of the default sphere head.")
@click.option("--method", type=click.Choice(["fem", "bem"]), default="fem", show_default=True,
              help="fem: finite elements; bem: charge-based boundary elements on the tissue interfaces.")
@click.option("--order", type=click.IntRange(1, 2), default=None,
              help="FEM element order: 2 (P2, accurate; the default) or 1 (P1, as SimNIBS).")
@click.option("--coil", "coil_spec", default="figure8", show_default=True,
              help="Built-in coil name (figure8, circular) or a SimNIBS .ccd/.tcd file.")
@click.option("--center-mm", default="0,0,95", show_default=True,
              help="Point near the scalp (mm) above which the coil is centred.")
@click.option("--handle", default="0,1,0", show_default=True, help="Handle direction (x,y,z).")
@click.option("--distance-mm", default=4.0, show_default=True, help="Coil-scalp distance (mm).")
@click.option("--matsimnibs", type=click.Path(exists=True, dir_okay=False),
              help="4x4 SimNIBS pose matrix file (translation in mm); overrides centre/handle/distance.")
@click.option("--didt", default=1e6, show_default=True, help="Coil current slope dI/dt (A/s).")
@click.option("--conductivity", multiple=True, metavar="TAG=S_PER_M",
              help="Override a tissue conductivity; repeatable.")
@click.option("--out", "out_dir", default="tmsfield_out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (field.msh, field.vtu, summary.txt, summary.json).")
@click.option("--quiet", is_flag=True, help="Only errors; no progress or summary.")
def simulate(head_path, edge_length_mm, method, order, coil_spec, center_mm, handle, distance_mm, matsimnibs,
             didt, conductivity, out_dir, quiet):
    """Compute the E-field of a coil on a head and write the result and a summary.

    \b
    Examples:
      tmsfield simulate                                   # sphere head, figure-8 coil on top
      tmsfield simulate --method bem --out sphere_bem     # the same with the BEM
      tmsfield simulate --head m2m_ernie/ernie.msh --coil Magstim_70mm_Fig8.ccd \\
          --center-mm -50,10,80 --handle 1,1,0 --didt 1.2e8 --out ernie_c3
    """
    import tmsfield as tf
    from ..core.progress import set_verbose
    set_verbose(False if quiet else True)
    try:
        if head_path:
            head = tf.load_head(head_path)
        else:
            head = tf.head_models.concentric_spheres(
                radii=tuple(r * 1e-3 for r in DEFAULT_SPHERE_MM), tags=DEFAULT_SPHERE_TAGS,
                edge_length=edge_length_mm * 1e-3)
        coil = (tf.coils.load(coil_spec) if Path(coil_spec).suffix.lower() in (".ccd", ".tcd")
                else tf.coils.builtin(coil_spec))
        if matsimnibs:
            pose = tf.CoilPose.load(matsimnibs)
        else:
            pose = tf.CoilPose.on_head(head, center=[v * 1e-3 for v in _vector(center_mm, "--center-mm")],
                                       handle=_vector(handle, "--handle"), distance=distance_mm * 1e-3)
        result = tf.simulate(head, coil, pose, didt=didt, method=method, order=order,
                             conductivities=_conductivities(conductivity))
        _write_outputs(result, Path(out_dir))
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(result.summary())
        click.echo(f"wrote {out_dir}/field.msh, field.vtu, summary.txt, summary.json")


def _write_outputs(result, out: Path) -> None:
    from ..core.files import write_text_atomic
    out.mkdir(parents=True, exist_ok=True)
    result.save(out / "field.msh")
    result.save(out / "field.vtu")
    write_text_atomic(out / "summary.txt", result.summary() + "\n")
    record = {"statistics": result.statistics(), "provenance": result.provenance_record()}
    write_text_atomic(out / "summary.json", json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
