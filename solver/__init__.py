"""Field solvers (FEM now; BEM later), FieldResult and simulate()."""
from .result import FieldResult
from .simulate import FieldSolver, simulate

__all__ = ["FieldResult", "FieldSolver", "simulate"]
