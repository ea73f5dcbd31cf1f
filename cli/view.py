"""``tmsfield view``: show a ``tmsfield simulate`` result, or save a screenshot of it."""
from __future__ import annotations

import logging
from pathlib import Path

import click

from ..core.errors import FileFormatError, TmsFieldError
from ..solver.result import read_summary
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


def _pose_and_coil(folder: Path):
    """The coil pose and, when the summary names a built-in coil, the coil itself."""
    import tmsfield as tf
    summary = folder / "summary.json"
    if not summary.is_file():
        return None, None
    record = read_summary(summary)["provenance"]
    pose = None
    if "matsimnibs_mm" in record:
        try:
            pose = tf.CoilPose.from_matsimnibs(record["matsimnibs_mm"], "mm")
        except (TypeError, ValueError) as exc:
            raise FileFormatError(f"{summary}: provenance.matsimnibs_mm is not a 4x4 matrix ({exc})") from None
    coil = None
    for name in tf.coils.builders.BUILTIN:
        candidate = tf.coils.builtin(name)
        if candidate.name == record.get("coil"):
            coil = candidate
    return pose, coil


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
@click.option("--clim", default=None, metavar="LOW,HIGH", help="Colour range in V/m (default: 0 to the 99.9th percentile).")
@click.option("--coil", "coil_spec", default=None,
              help="Coil to draw (built-in name or .ccd/.tcd). Default: the result's coil when it is a "
                   "built-in one, else a ring at the coil position.")
@click.option("--window-size", default="1024x768", show_default=True, help="Picture size WIDTHxHEIGHT in pixels.")
@click.option("--quiet", is_flag=True, help="Only errors.")
def view(result, screenshot_path, view_name, kind, surface, quantity, clim, coil_spec, window_size, quiet):
    """Show a `tmsfield simulate` result: E on the cortex with the coil in place.

    RESULT is a `tmsfield simulate` output folder or its field.vtu. Opens a window where a
    display exists; otherwise (or with --screenshot) saves a PNG, by default
    RESULT/view_<VIEW>.png.

    \b
    Examples:
      tmsfield simulate --out run1 && tmsfield view run1
      tmsfield view run1 --screenshot run1.png --view top --clim 0,2
      tmsfield view run1/field.vtu --kind slices --view left --screenshot slices.png
    """
    from .. import viz
    from ..core.progress import set_verbose, timed
    from ..neurons.field_file import load_field
    from .files import load_coil
    set_verbose(not quiet)
    limits = _pair(clim, "--clim", ",") if clim else None
    size = _pair(window_size, "--window-size", "x", int)
    timings = {}
    try:
        with timed(timings, "loading the result"):
            field = load_field(result)
            pose, coil = _pose_and_coil(_result_folder(Path(result)))
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
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(f"wrote {screenshot_path}")
