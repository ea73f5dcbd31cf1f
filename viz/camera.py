"""Named camera views: top, bottom, left, right, front, back (head axes, RAS: x right,
y anterior, z superior) and "coil" (looking down the coil axis, handle up)."""
from __future__ import annotations

import numpy as np

from ..core.checks import check_choice
from ..core.errors import TmsFieldError

#: view name → (direction from the scene towards the camera, camera up)
VIEWS = {
    "top": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "bottom": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "left": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "front": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "back": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
}
COIL_VIEWS = ("coil", "coil-aligned")
VIEW_NAMES = (*VIEWS, *COIL_VIEWS)

#: half-width (m) of the region the coil view frames around the coil centre
COIL_VIEW_HALF_WIDTH = 0.07


def set_view(plotter, view: str, pose=None) -> None:
    """Point ``plotter``'s camera (its active subplot, or all subplots) along a named view.

    "coil" / "coil-aligned" looks along z' (into the head) from behind the coil, handle
    up, framing a region of ±7 cm around it; it needs the coil ``pose``.
    """
    check_choice(view, VIEW_NAMES, "view")
    for renderer in plotter.renderers:
        _set_renderer_view(renderer, view, pose)


def _set_renderer_view(renderer, view, pose):
    if view in COIL_VIEWS:
        if pose is None:
            raise TmsFieldError(f"view {view!r} needs the coil pose (this plot has none)")
        matrix = np.asarray(pose.matrix, float)
        centre, up, axis = matrix[:3, 3], matrix[:3, 1], matrix[:3, 2]
        focal = centre + 0.02 * axis
        renderer.camera_position = [tuple(focal - 0.5 * axis), tuple(focal), tuple(up)]
        h = COIL_VIEW_HALF_WIDTH
        lo, hi = focal - h, focal + h
        renderer.reset_camera(bounds=(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]))
        return
    direction, up = VIEWS[view]
    bounds = np.asarray(renderer.bounds, float)
    focal = 0.5 * (bounds[0::2] + bounds[1::2])
    size = max(float(np.ptp(bounds.reshape(3, 2), axis=1).max()), 1e-3)
    renderer.camera_position = [tuple(focal + 3 * size * np.asarray(direction)), tuple(focal), up]
    renderer.reset_camera()
