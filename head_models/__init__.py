"""Head models: tagged tetrahedral meshes, tissues, builders, file I/O."""
from .demo import DemoLandmarks, demo_head, demo_head_fiducials, demo_head_landmarks
from .eeg_cap import cap_10_10
from .from_surfaces import from_surfaces
from .io import load_tensors
from .mesh import HeadMesh
from .mni import MNITransform, mni_transform
from .spheres import concentric_spheres, sphere_surfaces
from .subject import Subject, load_subject, read_positions
from .surface_repair import repair_surfaces
from .tissues import TISSUES, conductivity_table

__all__ = ["TISSUES", "DemoLandmarks", "HeadMesh", "MNITransform", "Subject", "cap_10_10", "concentric_spheres",
           "conductivity_table", "demo_head", "demo_head_fiducials", "demo_head_landmarks", "from_surfaces",
           "load_subject", "load_tensors", "mni_transform", "read_positions", "repair_surfaces", "sphere_surfaces"]
