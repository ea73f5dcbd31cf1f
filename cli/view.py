"""``tmsfield view``: show a ``tmsfield simulate`` result, or save a screenshot of it."""
from __future__ import annotations

import logging
from pathlib import Path

import click

from ..core.errors import TmsFieldError
from ..viz.camera import VIEW_NAMES

log = logging.getLogger("tmsfield")

KINDS = ("surface", "slices", "glyphs")


def _pair(text: str, what: str, sep: str, cast=float):
    try:
        values = [cast(v) for v in text.lower().replace(sep, " ").split()]
    except ValueError:
        values = []
    if len(values) != 2:
        raise click.BadParameter(f"{what} takes two numbers like {'0,2' if sep == ',' else '1024x768'}, "
                                 f"got {text!r}")
    return values


def _result_folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


@click.command()
@click.argument("result", type=click.Path(exists=True))
@click.option("--screenshot", "screenshot_path", type=click.Path(dir_okay=False),
              help="Save a picture here (PNG) instead of opening a window.")
@click.option("--view", "view_name", type=click.Choice(VIEW_NAMES), default=None,
              help="Camera: head axes (top, left, front, ...) or looking down the coil axis (coil). "
                   "Default: coil when the pose is known, else top.")
@click.option("--kind", type=click.Choice(KINDS), default="surface", show_default=True,
              help="surface: E on a surface; slices: planes through the coil axis; glyphs: arrows of E.")
@click.option("--surface", type=click.Choice(["cortex", "scalp", "midsurface"]), default="cortex",
              show_default=True, help="Surface for --kind surface (cortex: the outer grey-matter boundary).")
@click.option("--quantity", type=click.Choice(["magnitude", "x", "y", "z", "normal"]), default="magnitude",
              show_default=True, help="What of E to colour by (normal: outward normal component on surfaces).")
@click.option("--clim", default=None, metavar="LOW,HIGH",
              help="Colour range in V/m (default: 0 to the 99.9th percentile).")
@click.option("--coil", "coil_spec", default=None,
              help="Coil to draw (built-in name or .ccd/.tcd). Default: the result's own coil.")
@click.option("--window-size", default="1024x768", show_default=True, help="Picture size WIDTHxHEIGHT in pixels.")
@click.option("--quiet", is_flag=True, help="Only errors.")
def view(result, screenshot_path, view_name, kind, surface, quantity, clim, coil_spec, window_size, quiet):
    """Show a `tmsfield simulate` result: E on the cortex with the coil in place.

    RESULT is a `tmsfield simulate` output folder or one of its files (the result, with
    its coil and pose, is read from result.npz). Opens a window where a
    display exists; otherwise (or with --screenshot) saves a PNG, by default
    RESULT/view_<VIEW>.png.

    \b
    Examples:
      tmsfield simulate --out run1 && tmsfield view run1
      tmsfield view run1 --screenshot run1.png --view top --clim 0,2
      tmsfield view run1/field.vtu --kind slices --view left --screenshot slices.png
    """
    import tmsfield as tf

    from .. import viz
    from ..core.progress import set_verbose, timed
    from .options import load_coil
    set_verbose(not quiet)
    limits = _pair(clim, "--clim", ",") if clim else None
    size = _pair(window_size, "--window-size", "x", int)
    timings = {}
    with timed(timings, "loading the result"):
        field = tf.load_result(result)
        pose, coil = field.pose, field.coil
    if coil_spec:
        coil = load_coil(coil_spec)
    if view_name is None:
        view_name = "coil" if pose is not None else "top"
    interactive = screenshot_path is None and viz.has_display()
    if not interactive:
        ok, why = viz.rendering_available()
        if not ok:
            raise TmsFieldError(f"cannot render off-screen here: {why}")
    options = {"quantity": quantity, "coil": coil, "pose": pose, "clim": limits,
               "off_screen": not interactive, "window_size": size}
    with timed(timings, "building the scene"):
        if kind == "surface":
            plotter = viz.plot_field(field, surface=surface, **options)
        elif kind == "slices":
            plotter = viz.plot_slices(field, **options)
        else:
            options.pop("quantity")
            plotter = viz.plot_glyphs(field, **options)
    if interactive:
        viz.set_view(plotter, view_name, pose)
        plotter.show()
        return
    if screenshot_path is None:
        screenshot_path = _result_folder(Path(result)) / f"view_{view_name}.png"
        log.info("no display: saving a screenshot instead of opening a window")
    with timed(timings, "rendering"):
        viz.screenshot(plotter, screenshot_path, view=view_name, pose=pose)
        plotter.close()
    if not quiet:
        click.echo(f"wrote {screenshot_path}")
