"""Field solvers (FEM now; BEM later), FieldResult and simulate()."""
from .base import FieldSolver
from .options import BEMOptions, FEMOptions
from .results import FieldResult, load_result
from .simulate import simulate

__all__ = ["BEMOptions", "FEMOptions", "FieldResult", "FieldSolver", "load_result", "simulate"]
