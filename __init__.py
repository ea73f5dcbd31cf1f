"""tmsfield: electric fields induced by TMS coils in head models.

>>> import tmsfield as tf
>>> head = tf.head_models.concentric_spheres(edge_length=0.006)
>>> coil = tf.coils.figure8()
>>> pose = tf.CoilPose.on_head(head, center=(0, 0, 0.095), handle=(0, 1, 0), distance=0.004)
>>> res = tf.simulate(head, coil, pose, didt=1e6)
"""
from . import coils, head_models, neurons, solver
from .coils import Coil, CoilPose
from .core.backend import get_backend
from .core.errors import TmsFieldError
from .head_models import HeadMesh
from .head_models.io import load_head, save_head
from .head_models.subject import load_subject
from .optimize import PlacementResult, optimize_placement
from .solver import FieldResult, FieldSolver, load_result, simulate

__version__ = "0.1.0"
__all__ = ["coils", "head_models", "neurons", "solver", "Coil", "CoilPose", "HeadMesh", "FieldResult",
           "FieldSolver", "TmsFieldError", "get_backend", "load_head", "load_result", "load_subject", "save_head",
           "simulate",
           "optimize_placement", "PlacementResult"]
