"""Head models: tagged tetrahedral meshes, tissues, builders, file I/O."""
from .demo import DemoLandmarks, demo_head, demo_head_landmarks
from .from_surfaces import from_surfaces
from .io import load_tensors
from .mesh import HeadMesh
from .mni import MNITransform, mni_transform
from .spheres import concentric_spheres, sphere_surfaces
from .subject import Subject, load_subject, read_positions
from .tissues import TISSUES, conductivity_table

__all__ = ["TISSUES", "DemoLandmarks", "HeadMesh", "MNITransform", "concentric_spheres", "conductivity_table",
           "demo_head", "demo_head_landmarks", "from_surfaces", "load_subject", "load_tensors", "mni_transform",
           "read_positions", "sphere_surfaces", "Subject"]
