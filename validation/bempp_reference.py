"""Independent reference for the charge-based BEM: a thin adapter to bempp-cl.

Uses bempp-cl (``pip install tmsfield[validation]``; imported as ``bempp_cl``) with its numba
CPU backend in float64 and dense assembly, for piecewise-constant (DP0) densities on a
triangle mesh. Units: lengths in m; densities are charge/ε0 in V/m, so potentials come out
in V·m/m = V and fields in V/m. Kernel G(x, y) = 1/(4π|x−y|), the same as bempp's Laplace
kernel. bempp is imported lazily, so importing this module never needs it.
"""
from __future__ import annotations

import numpy as np

#: Central-difference step (m) used by :func:`field`.
FD_STEP = 1e-6


def _bempp():
    """Import ``bempp_cl.api`` quietly (it prints about a missing gmsh executable when gmsh is
    not on PATH, and triggers a scipy DeprecationWarning at import)."""
    import contextlib
    import io
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"bempp_cl\.")
    with contextlib.redirect_stdout(io.StringIO()):
        from bempp_cl import api
    return api


def _dp0_space(vertices, triangles):
    """bempp DP0 space on the mesh; checks that dof k is triangle ``triangles[k]``."""
    api = _bempp()
    tri = np.asarray(triangles, dtype=np.int64)
    grid = api.Grid(np.asarray(vertices, dtype=np.float64).T, tri.T)
    space = api.function_space(grid, "DP", 0)
    if not (np.array_equal(grid.elements.T, tri)
            and np.array_equal(space.local2global[:, 0], np.arange(len(tri)))):
        raise RuntimeError("bempp renumbered the elements or DP0 dofs; permute before use")
    return api, space


def single_layer_potential(vertices, triangles, density, points) -> np.ndarray:
    """φ(x) = ∫ density(y) / (4π|x−y|) dS(y) (V), shape (P,), at off-surface ``points`` (P, 3) m.

    ``vertices`` (N, 3) m, ``triangles`` (K, 3) 0-based, ``density`` (K,) V/m per triangle
    (DP0). Regular quadrature only (bempp default order 4), so accuracy degrades for points
    closer to the surface than about one triangle diameter. Runs on one numba thread: bempp's
    parallel potential kernel opens a tiny parallel region per triangle, which takes seconds
    per call instead of milliseconds when another process keeps a core busy.
    """
    import numba

    api, space = _dp0_space(vertices, triangles)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    fun = api.GridFunction(space, coefficients=np.asarray(density, dtype=np.float64))
    op = api.operators.potential.laplace.single_layer(
        space, pts.T, assembler="dense", device_interface="numba", precision="double")
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return op.evaluate(fun)[0]
    finally:
        numba.set_num_threads(threads)


def field(vertices, triangles, density, points) -> np.ndarray:
    """E = −∇φ (V/m), shape (P, 3), of the DP0 ``density`` at off-surface ``points`` (P, 3) m.

    bempp-cl has no Laplace gradient potential, so this takes central differences of
    :func:`single_layer_potential` with step h = ``FD_STEP`` = 1 µm. φ is evaluated with a fixed
    quadrature, i.e. as a smooth sum of point-charge potentials, so the only added errors are
    truncation, h²/6·|∂³φ| ≲ (h/d)² relative at distance d from the nearest charge, and
    round-off, ε·Σ|terms of φ|/h. Measured on a sphere at d = 1 cm: 5e-9 relative in total,
    truncation-dominated (h = 0.1 µm gives round-off of the same size).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    steps = FD_STEP * np.concatenate([np.eye(3), -np.eye(3)])
    phi = single_layer_potential(vertices, triangles, density,
                                 (pts[None] + steps[:, None]).reshape(-1, 3))
    phi = phi.reshape(6, len(pts))
    return -(phi[:3] - phi[3:]).T / (2 * FD_STEP)


def solve_charges(vertices, triangles, kappa: float, normal_primary) -> np.ndarray:
    """Surface charge density ρ (V/m, i.e. charge/ε0), shape (K,), on one closed surface.

    Solves ρ − 2κ n·E_c^PV[ρ] = 2κ g by Galerkin with DP0 test and trial functions, where
    E_c[ρ](x) = ∫ ρ(y)(x−y)/(4π|x−y|³) dS(y) = −∇ of :func:`single_layer_potential`, n is the
    outward normal (``triangles`` must be oriented outward), κ is a scalar and
    g = ``normal_primary`` (K,) V/m is the primary field's normal component per triangle.

    Sign relation: bempp's adjoint double layer is K'ρ(x) = ∫ ∂/∂n_x [1/(4π|x−y|)] ρ(y) dS(y)
    (principal value) = ∫ ρ(y)(y−x)·n_x/(4π|x−y|³) dS(y), hence n·E_c^PV = −K'ρ and the equation
    is (I + 2κK')ρ = 2κg. Galerkin system: (M + 2κ K'_weak) ρ = 2κ M g, with M the DP0 mass
    matrix; dense assembly, solved with numpy.linalg.solve.
    """
    api, space = _dp0_space(vertices, triangles)
    ops = api.operators.boundary
    adl = ops.laplace.adjoint_double_layer(space, space, space, assembler="dense",
                                           device_interface="numba", precision="double")
    mass = ops.sparse.identity(space, space, space, precision="double").weak_form().to_sparse().tocoo()
    matrix = 2.0 * kappa * adl.weak_form().to_dense()
    np.add.at(matrix, (mass.row, mass.col), mass.data)
    rhs = 2.0 * kappa * (mass @ np.asarray(normal_primary, dtype=np.float64))
    return np.linalg.solve(matrix, rhs)
