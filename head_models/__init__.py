"""Head models: tagged tetrahedral meshes, tissues, builders, file I/O."""
from .from_surfaces import from_surfaces
from .io import load_tensors
from .mesh import HeadMesh
from .spheres import concentric_spheres, sphere_surfaces
from .tissues import TISSUES, conductivity_table

__all__ = ["HeadMesh", "concentric_spheres", "sphere_surfaces", "from_surfaces", "load_tensors", "TISSUES", "conductivity_table"]
