"""``tmsfield head`` and ``tmsfield coil``: inspect and convert head meshes and coil files."""
from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import TmsFieldError

UNITS = click.Choice(["m", "mm"])


def load_coil(spec: str):
    """A coil from a built-in name (figure8, circular) or a SimNIBS .ccd/.tcd file."""
    import tmsfield as tf
    if Path(spec).suffix.lower() in (".ccd", ".tcd"):
        return tf.coils.load(spec)
    return tf.coils.builtin(spec)


@click.group()
def head():
    """Head meshes: show what a mesh holds, convert between formats."""


@head.command("info")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--units", type=UNITS, default=None, help="Length unit of the file (default: mm for .msh, m for .vtu).")
def head_info(path, units):
    """Counts, extent, mean edge length and tissue volumes of a head mesh.

    \b
    Example:
      tmsfield head info m2m_ernie/ernie.msh
    """
    import tmsfield as tf
    try:
        click.echo(tf.load_head(path, units=units).summary())
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None


@head.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--units", type=UNITS, default=None, help="Length unit of SOURCE (default by extension).")
@click.option("--target-units", type=UNITS, default=None,
              help="Length unit written to TARGET (default: mm for .msh, m for .vtu).")
def head_convert(source, target, units, target_units):
    """Convert a head mesh between gmsh .msh (SimNIBS, mm) and .vtu (ParaView, m).

    \b
    Example:
      tmsfield head convert ernie.msh ernie.vtu
    """
    import tmsfield as tf
    try:
        tf.save_head(tf.load_head(source, units=units), target, units=target_units)
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}")


@click.group()
def coil():
    """Coils: show a coil's elements and electrical properties, convert coil files."""


@coil.command("info")
@click.argument("spec")
@click.option("--wire-radius-mm", type=float, default=None,
              help="Round-wire radius (mm): adds inductance, DC resistance and wire length for wire coils.")
@click.option("--didt", type=float, default=None, help="Current slope (A/s) for the coil voltage L dI/dt.")
def coil_info(spec, wire_radius_mm, didt):
    """Elements of a coil (built-in name or .ccd/.tcd file) and, for wire coils with
    --wire-radius-mm, its inductance (Neumann's formula), resistance and voltage.

    \b
    Examples:
      tmsfield coil info figure8 --wire-radius-mm 1 --didt 1e8
      tmsfield coil info Magstim_70mm_Fig8.ccd
    """
    import tmsfield as tf
    try:
        c = load_coil(spec)
        click.echo(c.summary())
        if wire_radius_mm is not None:
            if not len(c.segment_starts):
                raise TmsFieldError(f"coil {c.name!r} has no wire segments: its inductance is unknown "
                                    "(dipole models carry no wire geometry)")
            props = tf.coils.electrical_properties(c, wire_radius=wire_radius_mm * 1e-3)
            click.echo(props.summary(didt=didt))
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None


@coil.command("convert")
@click.argument("spec")
@click.argument("target", type=click.Path(dir_okay=False))
def coil_convert(spec, target):
    """Write a dipole coil (.ccd/.tcd file) as a SimNIBS .ccd file (wire coils have no .ccd form).

    \b
    Example:
      tmsfield coil convert MagVenture_MCF-B65.tcd MCF-B65.ccd
    """
    import tmsfield as tf
    try:
        tf.coils.save(load_coil(spec), target)
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}")
