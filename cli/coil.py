"""``tmsfield coil``: inspect, convert and draw coils."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..core.errors import TmsFieldError
from ..viz.camera import VIEW_NAMES
from .options import load_coil


@click.group()
def coil():
    """Coils: show a coil's elements and electrical properties, draw it, convert coil files."""


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
    c = load_coil(spec)
    click.echo(c.summary())
    if wire_radius_mm is not None:
        if not len(c.segment_starts):
            raise TmsFieldError(f"coil {c.name!r} has no wire segments: its inductance is unknown "
                                "(dipole models carry no wire geometry)")
        props = tf.coils.electrical_properties(c, wire_radius=wire_radius_mm * 1e-3)
        click.echo(props.summary(didt=didt))


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
    tf.coils.save(load_coil(spec), target)
    click.echo(f"wrote {target}")


@coil.command("plot")
@click.argument("spec")
@click.option("--screenshot", "screenshot_path", type=click.Path(dir_okay=False), default=None,
              help="Save a picture here (PNG) instead of opening a window (the default without a display: "
                   "SPEC's name + .png).")
@click.option("--view", "view_name", type=click.Choice(VIEW_NAMES), default="top", show_default=True,
              help="Camera, in the coil's frame (z into the head, y the handle).")
def coil_plot(spec, screenshot_path, view_name):
    """Draw a coil (built-in name or .ccd/.tcd file) in its own frame: windings or dipoles and
    the handle direction (needs tmsfield[viz]).

    \b
    Examples:
      tmsfield coil plot figure8 --screenshot figure8.png
      tmsfield coil plot Magstim_70mm_Fig8.ccd --view left
    """
    import tmsfield as tf

    from .. import viz
    c = load_coil(spec)
    interactive = screenshot_path is None and viz.has_display()
    plotter = viz.add_coil(viz.new_plotter(off_screen=not interactive), tf.CoilPose(np.eye(4)), c)
    if interactive:
        viz.set_view(plotter, view_name, None)
        plotter.show()
        return
    path = screenshot_path or f"{Path(spec).stem}.png"
    viz.screenshot(plotter, path, view=view_name)
    plotter.close()
    click.echo(f"wrote {path}")
