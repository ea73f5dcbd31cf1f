"""Two results side by side (shared colour range, linked cameras) or their difference."""
from __future__ import annotations

import numpy as np

from ..core.checks import check_choice
from ..core.errors import TmsFieldError
from .coil import add_coil
from .data import (
    check_result,
    default_clim,
    named_surface,
    quantity_label,
    surface_values,
)
from .scene import (
    CMAP_SIGNED,
    add_title,
    colour_range,
    remember_pose,
    scalar_bar,
    start,
)
from .surface import plot_field

MODES = ("side-by-side", "difference")


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def plot_comparison(a, b, *, mode: str = "side-by-side", labels=("A", "B"), surface="cortex",
                    quantity: str = "magnitude", coil=None, show_coil: bool = True, clim=None, cmap=None,
                    smooth: bool = True, off_screen: bool | None = None, window_size=None):
    """Compare two results on the same head (FEM vs BEM, two placements); returns the Plotter.

    ``mode``: "side-by-side" (two linked views, one colour range over both) or "difference"
    (``quantity`` of ``a`` minus that of ``b`` on one surface, diverging colours, both coils
    drawn). ``coil``: one Coil for both or a pair. ``labels`` name the two results.
    """
    check_choice(mode, MODES, "mode")
    check_result(a, labels[0])
    check_result(b, labels[1])
    coils = _pair(coil)
    if mode == "side-by-side":
        if clim is None:
            both = np.concatenate([surface_values(r, named_surface(r.head, surface), quantity, smooth=smooth)[0]
                                   for r in (a, b)])
            clim, _ = colour_range(both, quantity, None, None)
        if window_size is None:
            window_size = (1600, 700)
        plotter = start(None, off_screen=off_screen, window_size=window_size, shape=(1, 2))
        for col, (res, name, c) in enumerate(zip((a, b), labels, coils)):
            plotter.subplot(0, col)
            plot_field(res, surface=surface, quantity=quantity, coil=c, show_coil=show_coil, clim=clim, cmap=cmap,
                       smooth=smooth, title=str(name), plotter=plotter)
        plotter.link_views()
        remember_pose(plotter, getattr(a, "pose", None))
        return plotter
    _check_same_head(a.head, b.head, labels)
    surf = named_surface(a.head, surface)
    va, on_points = surface_values(a, surf, quantity, smooth=smooth)
    vb, _ = surface_values(b, surf, quantity, smooth=smooth)
    diff = va - vb
    label = f"{quantity_label(quantity).replace(' (V/m)', '')} difference (V/m)"
    clim = tuple(clim) if clim is not None else default_clim(diff, symmetric=True)
    cmap = cmap or CMAP_SIGNED
    plotter = start(None, off_screen=off_screen, window_size=window_size)
    mesh = surf.to_pyvista()
    (mesh.point_data if on_points else mesh.cell_data)[label] = diff
    plotter.add_mesh(mesh, scalars=label, clim=clim, cmap=cmap, smooth_shading=on_points, ambient=0.3,
                     diffuse=0.75, scalar_bar_args=scalar_bar(label), name="difference")
    if show_coil:
        for res, c, name in zip((a, b), coils, labels):
            add_coil(plotter, getattr(res, "pose", None), c, name=f"coil {name}")
    add_title(plotter, f"{labels[0]} - {labels[1]}, {surf.name}")
    remember_pose(plotter, getattr(a, "pose", None))
    return plotter


def _check_same_head(h1, h2, labels):
    if h1 is h2:
        return
    if h1.nodes.shape != h2.nodes.shape or h1.tets.shape != h2.tets.shape \
            or not np.array_equal(h1.tets, h2.tets) or not np.allclose(h1.nodes, h2.nodes):
        raise TmsFieldError(f"a difference needs both results on the same mesh: {labels[0]!r} is on "
                            f"{h1.name!r} ({h1.n_tets} tetrahedra), {labels[1]!r} on {h2.name!r} "
                            f"({h2.n_tets} tetrahedra); use mode='side-by-side'")
