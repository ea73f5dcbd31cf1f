"""E on a surface — the cortex (grey matter), the scalp, the grey-matter mid-surface or one
of the user's — with the coil in place."""
from __future__ import annotations

from .coil import add_coil
from .data import check_result, named_surface, quantity_label, surface_values
from .scene import add_orientation_labels, add_title, colour_range, remember_pose, scalar_bar, start


def plot_field(result, *, surface="cortex", quantity: str = "magnitude", coil=None, pose=None,
               show_coil: bool = True, coil_opacity: float = 1.0, orientation: bool = True, clim=None, cmap=None,
               smooth: bool = True, title: str | None = None, plotter=None, off_screen: bool | None = None,
               window_size=None):
    """Plot ``quantity`` of E on a surface of ``result``'s head; returns the ``pyvista.Plotter``.

    Parameters
    ----------
    result : a FieldResult (or anything with ``head`` and per-tetrahedron ``E``).
    surface : "cortex" (outer grey-matter boundary, values from the grey-matter side; the
        innermost interface for heads without grey matter), "scalp", "midsurface", or
        (vertices (n, 3) m, triangles (k, 3)) / a PolyData, sampled with ``result.sample``.
    quantity : "magnitude", "x", "y", "z" or "normal" (outward normal component).
    The colour bar names the dI/dt the field is for (A/µs).
    coil, pose : the Coil to draw (windings or dipoles) and its pose (default ``result.pose``);
        without ``coil`` a ring marks the coil position. ``show_coil=False`` draws neither;
        ``coil_opacity`` < 1 lets the field show through the windings.
    orientation : label the head's anterior, posterior, left, right and superior ends (A, P,
        L, R, S; the head's x, y, z are right, anterior, superior as in SimNIBS).
    clim, cmap : colour range (V/m) and map; default [0, 99.9th percentile] with "inferno",
        or symmetric with "RdBu_r" for signed quantities.
    smooth : average triangle values onto the vertices (smooth shading) or show them flat.
    plotter : add to this plotter (its active subplot) instead of a new one.
    off_screen, window_size : for a new plotter (default: off-screen when there is no display).
    """
    check_result(result)
    plotter = start(plotter, off_screen=off_screen, window_size=window_size)
    pose = pose if pose is not None else getattr(result, "pose", None)
    surf = named_surface(result.head, surface)
    values, on_points = surface_values(result, surf, quantity, smooth=smooth)
    mesh = surf.to_pyvista()
    label = quantity_label(quantity)
    if on_points:
        mesh.point_data[label] = values
    else:
        mesh.cell_data[label] = values
    clim, cmap = colour_range(values, quantity, clim, cmap)
    didt = getattr(result, "didt_A_per_us", None)
    at = "" if didt is None else (f" at {didt:.4g} A/µs" if isinstance(didt, float) else
                                  f" at {[round(v, 4) for v in didt]} A/µs")
    plotter.add_mesh(mesh, scalars=label, clim=clim, cmap=cmap, smooth_shading=on_points, nan_color="lightgrey",
                     ambient=0.3, diffuse=0.75,
                     scalar_bar_args=scalar_bar(label + at), name=f"E on {surf.name}")
    if show_coil:
        add_coil(plotter, pose, coil, opacity=coil_opacity)
    if orientation:
        add_orientation_labels(plotter, result.head)
    add_title(plotter, title if title is not None else f"{label}, {surf.name}")
    remember_pose(plotter, pose)
    return plotter
