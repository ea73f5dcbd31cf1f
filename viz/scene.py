"""Helpers shared by the scene builders: plotter set-up, colour maps, the pose a plot shows."""
from __future__ import annotations

from ._pyvista import new_plotter, require_pyvista
from .data import default_clim, signed

#: colour maps of magnitudes and of signed quantities (components, differences)
CMAP, CMAP_SIGNED = "inferno", "RdBu_r"


def start(plotter, *, off_screen=None, window_size=None, shape=(1, 1)):
    """The given plotter, or a new one (off-screen without a display)."""
    require_pyvista()
    if plotter is not None:
        return plotter
    return new_plotter(off_screen=off_screen, window_size=window_size, shape=shape)


def remember_pose(plotter, pose) -> None:
    """Keep the coil pose on the plotter for the "coil" camera view of :func:`screenshot`."""
    if pose is not None:
        plotter._tmsfield_pose = pose


def scene_pose(plotter):
    """The coil pose a plot was made with, or None."""
    return getattr(plotter, "_tmsfield_pose", None)


def colour_range(values, quantity: str, clim, cmap):
    """``(clim, cmap)`` for values of ``quantity``: the user's choices or robust defaults."""
    symmetric = signed(quantity)
    clim = tuple(clim) if clim is not None else default_clim(values, symmetric=symmetric)
    return clim, cmap or (CMAP_SIGNED if symmetric else CMAP)


def scalar_bar(title: str) -> dict:
    """Scalar-bar settings: a horizontal bar at the bottom, dark text."""
    return {"title": title, "color": "black", "vertical": False, "position_x": 0.25, "position_y": 0.03,
            "width": 0.5, "height": 0.07, "fmt": "%.3g", "title_font_size": 16, "label_font_size": 14}


def add_orientation_labels(plotter, head) -> None:
    """A, P, L, R, S just outside the head's anterior, posterior, left, right and top ends (the
    head's x, y, z point right, anterior, superior)."""
    import numpy as np
    lo, hi = head.nodes.min(axis=0), head.nodes.max(axis=0)
    centre, margin = 0.5 * (lo + hi), 0.08 * (hi - lo).max()
    points = np.array([[centre[0], hi[1] + margin, centre[2]], [centre[0], lo[1] - margin, centre[2]],
                       [lo[0] - margin, centre[1], centre[2]], [hi[0] + margin, centre[1], centre[2]],
                       [centre[0], centre[1], hi[2] + margin]])
    plotter.add_point_labels(points, ["A", "P", "L", "R", "S"], font_size=16, text_color="black", shape=None,
                             show_points=False, always_visible=False, name="orientation")


def add_title(plotter, text: str) -> None:
    """A fixed-size title at the top left of the active subplot."""
    plotter.add_text(text, position=(0.02, 0.93), viewport=True, font_size=11, color="black", name="title")
