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


def vector(text: str, what: str, length: int = 3):
    """``length`` comma- or space-separated finite numbers of the option ``what``."""
    example = {1: "'10'", 3: "'0,0,95'", 4: "'-37,-21,58,10'"}.get(length, "")
    count = "a number" if length == 1 else f"{length} numbers"
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter(f"{what} must be {count} like {example}, got {text!r}") from None
    if len(values) != length or not np.isfinite(values).all():
        raise click.BadParameter(f"{what} must have {length} finite components, got {text!r}")
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


def cap_position(head, spec: str):
    """A function label → (3,) m over the 10-10 cap computed on the built-in head ``spec``
    (head_models/eeg_cap.py); a TmsFieldError for a mesh file, which has no fiducials."""
    import functools

    import tmsfield as tf

    from ..head_models.subject import named_position
    fiducials = fiducials_for_spec(spec)
    if fiducials is None:
        raise TmsFieldError(f"--position and --handle-toward name 10-10 positions, and the mesh {spec} comes without "
                            "a cap: give --subject m2m_<id> (its EEG caps), or the position in mm with --center-mm")
    cap = tf.head_models.cap_10_10(head.scalp, fiducials)
    return functools.partial(named_position, cap, where=f"the 10-10 cap computed on the {spec} head")


def fiducials_for_spec(spec: str) -> dict | None:
    """The fiducials (m) of a built-in head ("demo", "sphere"), for its computed 10-10 cap; None
    for a mesh file (its cap comes from a subject folder)."""
    import tmsfield as tf
    if spec == "demo":
        return tf.head_models.demo_head_fiducials()
    if spec == "sphere":
        r = SPHERE_MM[-1] * 1e-3
        return {"Nz": np.array([0.0, r, 0.0]), "Iz": np.array([0.0, -r, 0.0]), "LPA": np.array([-r, 0.0, 0.0]),
                "RPA": np.array([r, 0.0, 0.0])}
    return None


def _check_edge_length(value) -> None:
    """--edge-length-mm must be a finite length > 0 (0 used to fall back silently to 6 mm)."""
    try:
        good = not isinstance(value, bool) and np.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError, OverflowError):
        good = False
    if not good:
        raise TmsFieldError(f"--edge-length-mm (edge_length_mm) must be a finite length > 0 in mm, e.g. 6, "
                            f"got {value!r}")
