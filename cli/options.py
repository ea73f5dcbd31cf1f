"""What the ``tmsfield`` commands share: option parsers, head and coil specs, and the command
group that turns the package's errors into clean command-line errors."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..core.errors import TmsFieldError


class PackageErrorGroup(click.Group):
    """A click group whose commands (and their subcommands) report a :class:`TmsFieldError` as
    "Error: <message>" with exit code 1 instead of a traceback: the one place the CLI maps them."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TmsFieldError as exc:
            raise click.ClickException(str(exc)) from None


def vector(text: str, what: str):
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"{what} must be three numbers like '0,0,95', got {text!r}") from None
    if len(values) != 3:
        raise click.BadParameter(f"{what} must have three components, got {text!r}")
    return values


def conductivities(items):
    out = {}
    for item in items:
        try:
            tag, value = item.split("=")
            out[int(tag)] = float(value)
        except ValueError:
            raise click.BadParameter(f"--conductivity takes TAG=S_PER_M (e.g. 3=1.654), got {item!r}") from None
    return out


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
                                                 edge_length=1e-3 * (SPHERE_EDGE_MM if edge_length_mm is None
                                                                     else edge_length_mm))
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
