"""Slice planes through the volume, coloured by E, with the tissue boundaries traced on them."""
from __future__ import annotations

import numpy as np

from ..core.errors import TmsFieldError
from .coil import add_coil
from .data import check_result, field_quantity, quantity_label, volume_grid
from .scene import add_title, colour_range, remember_pose, scalar_bar, start

_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


def _normal(n, pose):
    if isinstance(n, str):
        if n in _AXES:
            return np.array(_AXES[n])
        if n in ("x'", "y'", "z'"):
            if pose is None:
                raise TmsFieldError(f"slice normal {n!r} (a coil axis) needs the coil pose")
            return np.asarray(pose.matrix, float)[:3, "xyz".index(n[0])]
        raise TmsFieldError(f"slice normals are 'x', 'y', 'z', coil axes \"x'\", \"y'\", \"z'\" or vectors, got {n!r}")
    n = np.asarray(n, float).reshape(-1)
    if n.shape != (3,) or not np.isfinite(n).all() or not np.linalg.norm(n):
        raise TmsFieldError(f"a slice normal must be a non-zero 3-vector, got {n!r}")
    return n / np.linalg.norm(n)


def plot_slices(result, *, normals=None, origin=None, quantity: str = "magnitude", coil=None, pose=None,
                show_coil: bool = True, boundaries: bool = True, clim=None, cmap=None, title: str | None = None,
                plotter=None, off_screen: bool | None = None, window_size=None):
    """Plot E on planes through the head; returns the ``pyvista.Plotter``.

    ``normals``: plane normals — "x", "y", "z", the coil axes "x'", "y'", "z'", or vectors;
    default the two planes containing the coil axis (x' and y') through the coil centre, or
    the x and y planes through the head's centre without a pose. ``origin`` (m): a point on
    every plane. Values are per tetrahedron (no interpolation); ``boundaries`` traces the
    tissue interfaces on the planes. ``quantity``: "magnitude", "x", "y" or "z". Other
    arguments as in :func:`~tmsfield.viz.plot_field`.
    """
    check_result(result)
    pose = pose if pose is not None else getattr(result, "pose", None)
    if normals is None:
        normals = ("x'", "y'") if pose is not None else ("x", "y")
    elif isinstance(normals, str) or np.ndim(normals) == 1 and len(normals) == 3 and not isinstance(normals[0], str):
        normals = [normals]
    head = result.head
    if origin is None:
        origin = pose.matrix[:3, 3] if pose is not None else 0.5 * (head.nodes.min(axis=0) + head.nodes.max(axis=0))
    origin = np.asarray(origin, float)
    label = quantity_label(quantity)
    values = field_quantity(result.E, quantity)
    plotter = start(plotter, off_screen=off_screen, window_size=window_size)
    clim, cmap = colour_range(values, quantity, clim, cmap)
    grid = volume_grid(head, {label: values})
    outlines = _boundaries(head) if boundaries else None
    for i, n in enumerate(normals):
        n = _normal(n, pose)
        cut = grid.slice(normal=n, origin=origin)
        if cut.n_points == 0:
            raise TmsFieldError(f"slice plane {i} (normal {n.round(3).tolist()}, through "
                                f"{(1e3 * origin).round(1).tolist()} mm) misses the head")
        plotter.add_mesh(cut, scalars=label, clim=clim, cmap=cmap, scalar_bar_args=scalar_bar(label),
                         show_scalar_bar=i == 0, name=f"slice {i}")
        if outlines is not None:
            lines = outlines.slice(normal=n, origin=origin)
            if lines.n_points:
                plotter.add_mesh(lines, color="white", line_width=2, name=f"slice {i} boundaries")
    if show_coil:
        add_coil(plotter, pose, coil)
    add_title(plotter, title if title is not None else f"{label} on slices")
    remember_pose(plotter, pose)
    return plotter


def _boundaries(head):
    """All tissue interfaces and the outer surface as one PolyData."""
    import pyvista as pv
    inner, _, _ = head.interfaces()
    triangles = np.vstack([inner, head.outer_surface()])
    faces = np.hstack([np.full((len(triangles), 1), 3), triangles]).ravel()
    return pv.PolyData(np.asarray(head.nodes), faces)
