"""pyvista import, display detection and off-screen rendering set-up.

pyvista (the ``viz`` extra) is imported only here and only when a plot is made. Where no
display exists (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux), plotters render off-screen: VTK
≥ 9.4 wheels pick EGL (Mesa's software renderer will do) or OSMesa at run time. We ask for EGL
directly when libEGL is present, which skips VTK's failed X connection and its warning.
"""
from __future__ import annotations

import ctypes.util
import functools
import logging
import os
import re
import subprocess
import sys

from ..core.errors import TmsFieldError

log = logging.getLogger("tmsfield")

#: default window size (pixels) of new plotters and screenshots
WINDOW_SIZE = (1024, 768)

_PROBE = """
import pyvista as pv
p = pv.Plotter(off_screen=True, window_size=(64, 64))
p.add_mesh(pv.Sphere(), color="red")
img = p.screenshot()
print(type(p.render_window).__name__)
p.close()
assert img.shape[:2] == (64, 64) and img[..., 0].max() > img[..., 1].min(), "blank image"
"""


def require_pyvista():
    """The ``pyvista`` module, or a TmsFieldError telling how to install it."""
    try:
        import pyvista
    except ImportError as exc:
        raise TmsFieldError("plotting needs pyvista: pip install 'tmsfield[viz]' "
                            f"(import failed: {exc})") from None
    configure_headless()
    return pyvista


def has_display() -> bool:
    """Whether an interactive window can be opened (a desktop session or an X/Wayland display)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@functools.lru_cache(maxsize=1)
def configure_headless() -> None:
    """Without a display, ask VTK for an EGL render window (when libEGL exists and the user
    has not chosen one with ``VTK_DEFAULT_OPENGL_WINDOW``). Idempotent."""
    if has_display() or "VTK_DEFAULT_OPENGL_WINDOW" in os.environ:
        return
    if ctypes.util.find_library("EGL"):
        os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"
        log.debug("no display: rendering off-screen through EGL")


def new_plotter(*, off_screen: bool | None = None, window_size=None, shape=(1, 1)):
    """A white-background ``pyvista.Plotter``; off-screen when no display exists or when
    ``off_screen`` (or ``pyvista.OFF_SCREEN``) says so."""
    pv = require_pyvista()
    if off_screen is None:
        off_screen = bool(pv.OFF_SCREEN) or not has_display()
    plotter = pv.Plotter(off_screen=off_screen, window_size=list(window_size or WINDOW_SIZE), shape=shape,
                         border=False)
    plotter.set_background("white")
    return plotter


@functools.lru_cache(maxsize=1)
def rendering_available(timeout: float = 120.0) -> tuple[bool, str]:
    """Whether off-screen rendering works here, and why not.

    Renders a tiny scene in a subprocess: a VTK build with no usable OpenGL (no display, no
    EGL, no OSMesa) can crash the process instead of raising. Returns ``(ok, message)``
    where ``message`` names the render window class that worked or the reason it failed.
    """
    try:
        import pyvista  # noqa: F401
    except ImportError as exc:
        return False, f"pyvista is not installed ({exc})"
    configure_headless()
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], check=False, capture_output=True, text=True,
                              timeout=timeout, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return False, f"a tiny off-screen render did not finish in {timeout:g} s"
    if proc.returncode != 0:
        how = f"crashed (signal {-proc.returncode})" if proc.returncode < 0 else f"failed (exit {proc.returncode})"
        lines = re.sub(r"\x1b\[[0-9;]*m", "", proc.stderr or proc.stdout).strip().splitlines()
        last = lines[-1].split("| ")[-1].strip()[:200] if lines else ""
        return False, f"off-screen rendering {how}: {last}"
    return True, proc.stdout.strip()
