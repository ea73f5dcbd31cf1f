"""Arrows of E at tetrahedron centroids in a region (by default around the hot spot)."""
from __future__ import annotations

import numpy as np

from ..core.errors import TmsFieldError
from .coil import add_coil
from .data import check_result, cortex_tags, named_surface, quantity_label
from .scene import add_title, colour_range, remember_pose, scalar_bar, start


def plot_glyphs(result, *, tags=None, center=None, radius: float | None = 0.03, max_arrows: int = 1500,
                length: float | None = None, coil=None, pose=None, show_coil: bool = True, context: bool = True,
                clim=None, cmap=None, seed: int = 0, title: str | None = None, plotter=None,
                off_screen: bool | None = None, window_size=None):
    """Plot E as arrows at tetrahedron centroids; returns the ``pyvista.Plotter``.

    Arrows are drawn in the tetrahedra with ``tags`` (default: grey + white matter, or the
    innermost tissue) within ``radius`` (m; None: everywhere) of ``center`` (default: the
    centroid with the largest |E| there), at most ``max_arrows`` of them (a seeded random
    subset). ``length`` (m) is the length of the strongest arrow (default 1.5 mean edges).
    Arrows are coloured by |E|. ``context`` adds the cortex surface, translucent.
    """
    import pyvista as pv
    check_result(result)
    head = result.head
    pose = pose if pose is not None else getattr(result, "pose", None)
    tags = tuple(tags) if tags is not None else cortex_tags(head)
    E = np.asarray(result.E, float)
    magn = np.linalg.norm(E, axis=1)
    chosen = np.flatnonzero(np.isin(head.tags, tags))
    if not len(chosen):
        raise TmsFieldError(f"head {head.name!r} has no tetrahedra with tags {list(tags)}")
    centroids = head.centroids
    if radius is not None:
        c = centroids[chosen[np.argmax(magn[chosen])]] if center is None else np.asarray(center, float)
        chosen = chosen[np.linalg.norm(centroids[chosen] - c, axis=1) <= radius]
        if not len(chosen):
            raise TmsFieldError(f"no tetrahedra with tags {list(tags)} within {1e3 * radius:g} mm of "
                                f"{(1e3 * c).round(1).tolist()} mm")
    if len(chosen) > max_arrows:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, max_arrows, replace=False))
    label = quantity_label("magnitude")
    clim, cmap = colour_range(magn[chosen], "magnitude", clim, cmap)
    if length is None:
        length = 1.5 * head.mean_edge_length
    points = pv.PolyData(centroids[chosen])
    points["E"] = E[chosen]
    points[label] = magn[chosen]
    arrows = points.glyph(orient="E", scale=label, factor=length / max(float(magn[chosen].max()), 1e-300),
                          geom=pv.Arrow(tip_length=0.35, tip_radius=0.12, shaft_radius=0.04))
    plotter = start(plotter, off_screen=off_screen, window_size=window_size)
    plotter.add_mesh(arrows, scalars=label, clim=clim, cmap=cmap, scalar_bar_args=scalar_bar(label), name="E arrows")
    if context:
        plotter.add_mesh(named_surface(head, "cortex").to_pyvista(), color="lightgrey", opacity=0.25,
                         name="cortex")
    if show_coil:
        add_coil(plotter, pose, coil)
    add_title(plotter, title if title is not None else f"E in {len(chosen)} elements, tags {', '.join(map(str, tags))}")
    remember_pose(plotter, pose)
    return plotter
