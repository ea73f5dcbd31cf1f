"""3-D views of fields, coils and neuron thresholds (pyvista; ``pip install 'tmsfield[viz]'``).

Every ``plot_*`` function returns a ``pyvista.Plotter``: ``.show()`` it where a display
exists, or save a picture off-screen with :func:`screenshot`::

    p = tf.viz.plot_field(result, surface="cortex", coil=coil)
    tf.viz.screenshot(p, "cortex.png", view="coil")

pyvista is imported when a plot is made, not when this package is imported.
"""
from ._pyvista import has_display, new_plotter, rendering_available
from .camera import VIEW_NAMES, set_view
from .coil import add_coil
from .compare import plot_comparison
from .glyphs import plot_glyphs
from .screenshot import screenshot
from .slices import plot_slices
from .surface import plot_field
from .thresholds import plot_thresholds

__all__ = [
           "VIEW_NAMES",
           "add_coil",
           "has_display",
           "new_plotter",
           "plot_comparison",
           "plot_field",
           "plot_glyphs",
           "plot_slices",
           "plot_thresholds",
           "rendering_available",
           "screenshot",
           "set_view",
]
