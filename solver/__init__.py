"""Field solvers (FEM now; BEM later), FieldResult and simulate()."""
from .results import FieldResult, load_result
from .base import FieldSolver
from .options import BEMOptions, FEMOptions
from .simulate import simulate

__all__ = ["BEMOptions", "FEMOptions", "FieldResult", "FieldSolver", "load_result", "simulate"]
