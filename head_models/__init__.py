"""Head models: tagged tetrahedral meshes, tissues, builders, file I/O."""
from .mesh import HeadMesh
from .spheres import concentric_spheres
from .tissues import TISSUES, conductivity_table

__all__ = ["HeadMesh", "concentric_spheres", "TISSUES", "conductivity_table"]
