"""The coil drawn in place: windings as tubes or dipoles as points, and a handle arrow.

Without a coil object (a result read back from files names its coil but does not hold it)
a ring of the typical coil radius marks where the coil sits.
"""
from __future__ import annotations

import numpy as np

#: colours of windings / positive dipoles, negative dipoles, the handle arrow and the marker
COPPER, STEEL, HANDLE, MARKER = "#b87333", "#4682b4", "#202020", "#808080"
#: radius (m) of the ring drawn when no coil object is given
MARKER_RADIUS = 0.045


def handle_reach(coil) -> float:
    """How far (m) the coil's elements reach along its handle axis y', in the coil frame."""
    points = coil.source_points()
    return float(np.abs(points[:, 1]).max()) if len(points) else MARKER_RADIUS


def add_coil(plotter, pose, coil=None, *, handle_arrow: bool = True, opacity: float = 1.0,
             tube_radius: float = 0.0006, name: str = "coil"):
    """Draw ``coil`` (a :class:`~tmsfield.Coil` in its own frame) at ``pose`` on ``plotter``.

    Wire segments become tubes of ``tube_radius`` (m); dipoles become points coloured by the
    sign of their moment along the coil axis (copper +, steel −); ``coil=None`` draws a ring
    marker. ``handle_arrow`` adds an arrow along the handle (y'), just above the coil.
    ``name`` prefixes the actor names (a second coil needs another). Returns the plotter.
    """
    import pyvista as pv
    if pose is None:
        return plotter
    matrix = np.asarray(pose.matrix, float)
    centre, handle, axis = matrix[:3, 3], matrix[:3, 1], matrix[:3, 2]
    reach = MARKER_RADIUS
    if coil is None:
        ring = pv.Disc(center=centre, inner=0.92 * MARKER_RADIUS, outer=MARKER_RADIUS, normal=axis, c_res=96)
        plotter.add_mesh(ring, color=MARKER, opacity=0.8 * opacity, name=name)
    else:
        reach = handle_reach(coil)
        placed = coil.transformed(matrix)
        if len(placed.segment_starts):
            n = len(placed.segment_starts)
            points = np.empty((2 * n, 3))
            points[0::2], points[1::2] = placed.segment_starts, placed.segment_ends
            lines = np.column_stack([np.full(n, 2), np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)]).ravel()
            wires = pv.PolyData(points, lines=lines).tube(radius=tube_radius, n_sides=6, capping=False)
            plotter.add_mesh(wires, color=COPPER, opacity=opacity, name=f"{name} windings", smooth_shading=True)
        if len(placed.dipole_positions):
            sign = placed.dipole_moments @ axis
            for suffix, keep, colour in (("+", sign >= 0, COPPER), ("-", sign < 0, STEEL)):
                if keep.any():
                    plotter.add_points(placed.dipole_positions[keep], color=colour, point_size=4, opacity=opacity,
                                       name=f"{name} dipoles {suffix}")
    if handle_arrow:
        start = centre + (reach + 0.005) * handle - 0.004 * axis     # z' points into the head
        arrow = pv.Arrow(start=start, direction=handle, scale=0.05, tip_length=0.3, tip_radius=0.1,
                         shaft_radius=0.04)
        plotter.add_mesh(arrow, color=HANDLE, name=f"{name} handle")
    return plotter
