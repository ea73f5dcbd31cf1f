"""``tmsfield head``: inspect, generate and convert head meshes."""
from __future__ import annotations

import click

from .options import UNITS


@click.group()
def head():
    """Head meshes: show what a mesh holds, generate the demo head, convert between formats."""


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
    click.echo(tf.load_head(path, units=units).summary())


@head.command("generate")
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--resolution", type=click.Choice(["coarse", "default", "fine"]), default="default", show_default=True,
              help="Mesh resolution of the demo head (about 72k / 236k / 700k tetrahedra).")
@click.option("--seed", default=0, show_default=True, help="Seed of the cortical folding pattern.")
@click.option("--units", type=UNITS, default=None, help="Length unit written (default: mm for .msh, m for .vtu).")
def head_generate(target, resolution, seed, units):
    """Generate the built-in demo head (folded five-layer head model) and write it to TARGET.

    \b
    Example:
      tmsfield head generate demo.msh --resolution fine --seed 3
    """
    import tmsfield as tf
    mesh = tf.head_models.demo_head(resolution, seed=seed, verbose=True)
    tf.save_head(mesh, target, units=units)
    marks = tf.head_models.demo_head_landmarks(seed=seed)
    click.echo(mesh.summary())
    click.echo(f"motor-like hotspot on the scalp: {[round(1e3 * float(v), 1) for v in marks.motor_hotspot]} mm, "
               f"handle {[round(float(v), 3) for v in marks.handle]}")
    click.echo(f"wrote {target}")


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
    tf.save_head(tf.load_head(source, units=units), target, units=target_units)
    click.echo(f"wrote {target}")
