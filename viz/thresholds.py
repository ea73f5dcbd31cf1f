"""Threshold maps: cells at their activation sites, coloured by threshold."""
from __future__ import annotations

import numpy as np

from ..core.checks import check_choice
from ..core.errors import TmsFieldError
from .coil import add_coil
from .data import named_surface
from .scene import add_title, remember_pose, scalar_bar, start

#: threshold quantity → (ThresholdResult attribute, scale, scalar-bar title)
THRESHOLD_QUANTITIES = {
    "factor": ("factor", 1.0, "threshold (x simulated dI/dt)"),
    "didt": ("didt", 1e-6, "threshold dI/dt (A/us)"),
    "e_site": ("e_site", 1.0, "E at the site at threshold (V/m)"),
}


def plot_thresholds(thresholds, *, head=None, quantity: str = "factor", coil=None, pose=None,
                    show_coil: bool = True, surface="cortex", clim=None, cmap: str = "viridis_r",
                    point_size: float = 9.0, title: str | None = None, plotter=None,
                    off_screen: bool | None = None, window_size=None):
    """Plot a :class:`~tmsfield.neurons.ThresholdResult` as points at the activation sites,
    coloured by ``quantity``: "factor" (multiple of the simulated dI/dt), "didt" (A/µs) or
    "e_site" (|E| at the site, V/m); low thresholds are bright by default ("viridis_r").

    ``head`` (a HeadMesh, or a FieldResult whose head and pose are used) adds its ``surface``
    in translucent grey for context. Cells that did not fire below the search limit have no
    site and are counted in the title. Returns the ``pyvista.Plotter``.
    """
    check_choice(quantity, THRESHOLD_QUANTITIES, "quantity")
    attr, scale, label = THRESHOLD_QUANTITIES[quantity]
    if head is not None and hasattr(head, "E"):              # a FieldResult: take its head and pose
        pose = pose if pose is not None else getattr(head, "pose", None)
        head = head.head
    positions = np.asarray(thresholds.site_position, float)
    values = scale * np.asarray(getattr(thresholds, attr), float)
    fired = np.isfinite(positions).all(axis=1) & np.isfinite(values)
    if not fired.any():
        raise TmsFieldError(f"none of the {thresholds.n_cells} cells fired below the search limit: "
                            "nothing to map")
    import pyvista as pv
    plotter = start(plotter, off_screen=off_screen, window_size=window_size)
    cloud = pv.PolyData(positions[fired])
    cloud[label] = values[fired]
    if clim is None:
        clim = (float(values[fired].min()), float(np.percentile(values[fired], 95)))
        if clim[1] <= clim[0]:
            clim = (clim[0], clim[0] + 1e-12 + abs(clim[0]) * 1e-6)
    plotter.add_mesh(cloud, scalars=label, clim=clim, cmap=cmap, point_size=point_size,
                     render_points_as_spheres=True, scalar_bar_args=scalar_bar(label), name="thresholds")
    if head is not None:
        plotter.add_mesh(named_surface(head, surface).to_pyvista(), color="lightgrey", opacity=0.3,
                         name="context surface")
    if show_coil:
        add_coil(plotter, pose, coil)
    missing = int((~fired).sum())
    add_title(plotter, title if title is not None else
              f"thresholds of {int(fired.sum())} cells" + (f" ({missing} did not fire)" if missing else ""))
    remember_pose(plotter, pose)
    return plotter
