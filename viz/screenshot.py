"""Screenshots: a PNG of a plotter from a named camera, written atomically."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..core.errors import TmsFieldError
from ..core.files import atomic_path
from ._pyvista import has_display, rendering_available
from .camera import set_view
from .scene import scene_pose

log = logging.getLogger("tmsfield")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def screenshot(plotter, path: str | os.PathLike, *, view: str | None = None, window_size=None,
               pose=None, transparent_background: bool = False) -> Path:
    """Render ``plotter`` and save the image to ``path`` (PNG, or JPEG/TIFF/BMP by suffix).

    ``view`` names a camera (:data:`~tmsfield.viz.camera.VIEW_NAMES`: top, left, front,
    coil, ...; None keeps the current one); the coil view uses ``pose`` or the pose the plot
    was made with. ``window_size`` (width, height) in pixels. The file appears only once
    complete (temporary file + rename). Works without a display (off-screen plotters); where no
    off-screen rendering is possible it raises a TmsFieldError saying why (checked once).
    Returns the path written.
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise TmsFieldError(f"{path}: screenshot format must be one of {IMAGE_SUFFIXES}")
    if not has_display():                   # a VTK without working off-screen OpenGL would crash
        ok, why = rendering_available()
        if not ok:
            raise TmsFieldError(f"{path}: cannot render off-screen here: {why}")
    if window_size is not None:
        plotter.window_size = [int(v) for v in window_size]
    if view is not None:
        set_view(plotter, view, pose if pose is not None else scene_pose(plotter))
    with atomic_path(path) as tmp:
        plotter.screenshot(str(tmp), transparent_background=transparent_background)
    log.debug("wrote %s", path)
    return path
