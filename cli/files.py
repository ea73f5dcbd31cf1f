"""``tmsfield head`` and ``tmsfield coil``: inspect and convert head meshes and coil files."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..core.errors import TmsFieldError
from ..viz.camera import VIEW_NAMES

UNITS = click.Choice(["m", "mm"])


def load_coil(spec: str):
    """A coil from a built-in name (figure8, circular) or a SimNIBS coil file (.ccd/.tcd; a
    .nii/.nii.gz A-field coil, or any other existing file, gets the reader's error naming it)."""
    import tmsfield as tf
    from ..coils.io import is_coil_file_name
    if is_coil_file_name(spec) or Path(spec).is_file():
        return tf.coils.load(spec)
    return tf.coils.builtin(spec)


#: radii (mm) and tags of the built-in sphere head
SPHERE_MM = (85.0, 90.0, 95.0)
SPHERE_TAGS = (3, 4, 5)
SPHERE_EDGE_MM = 6.0


def head_from_spec(spec: str, edge_length_mm: float | None = None, *, verbose: bool = False):
    """(HeadMesh, default coil centre (3,) m or None, default handle (3,)) for a head given as
    "demo", "sphere" or a mesh file; ``edge_length_mm`` sizes the built-in heads."""
    import tmsfield as tf
    if edge_length_mm is not None:
        _check_edge_length(edge_length_mm)
    if spec == "demo":
        marks = tf.head_models.demo_head_landmarks()
        resolution = "default" if edge_length_mm is None else edge_length_mm * 1e-3
        return tf.head_models.demo_head(resolution, verbose=verbose), marks.motor_hotspot, marks.handle
    if spec == "sphere":
        head = tf.head_models.concentric_spheres(radii=tuple(r * 1e-3 for r in SPHERE_MM), tags=SPHERE_TAGS,
                                                 edge_length=(SPHERE_EDGE_MM if edge_length_mm is None else edge_length_mm) * 1e-3)
        return head, (0.0, 0.0, SPHERE_MM[-1] * 1e-3), (0.0, 1.0, 0.0)
    if edge_length_mm is not None:
        raise TmsFieldError(f"--edge-length-mm sizes the built-in heads (demo, sphere), not the mesh {spec}")
    return tf.load_head(spec), None, (0.0, 1.0, 0.0)


def _check_edge_length(value) -> None:
    """--edge-length-mm must be a finite length > 0 (0 used to fall back silently to 6 mm)."""
    try:
        good = not isinstance(value, bool) and np.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError, OverflowError):
        good = False
    if not good:
        raise TmsFieldError(f"--edge-length-mm (edge_length_mm) must be a finite length > 0 in mm, e.g. 6, "
                            f"got {value!r}")


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
    try:
        click.echo(tf.load_head(path, units=units).summary())
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None


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
    try:
        mesh = tf.head_models.demo_head(resolution, seed=seed, verbose=True)
        tf.save_head(mesh, target, units=units)
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
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
    try:
        tf.save_head(tf.load_head(source, units=units), target, units=target_units)
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}")


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
    try:
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
    except TmsFieldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")
