"""Function spaces, quadrature and the two-level P2 preconditioner."""
import numpy as np
import pytest

from tmsfield.solver.fem import assembly
from tmsfield.solver.fem.elements import CENTROID, DEGREE2, DEGREE3, element
from tmsfield.solver.fem.linear import GroundedAMGSolver
from tmsfield.solver.fem.space import FunctionSpace


@pytest.mark.parametrize("rule,degree", [(CENTROID, 1), (DEGREE2, 2), (DEGREE3, 3)])
def test_quadrature_exact_to_its_degree(rule, degree):
    """∫ λ0^a λ1^b λ2^c λ3^d over the reference tetrahedron (volume 1/6) is
    a! b! c! d! 3! / (a+b+c+d+3)! × 1/6 · 6 — checked for every monomial up to the degree."""
    from itertools import product
    from math import factorial
    for powers in product(range(degree + 1), repeat=4):
        if sum(powers) > degree:
            continue
        exact = np.prod([factorial(p) for p in powers]) * factorial(3) / factorial(sum(powers) + 3)
        got = np.sum(rule.weights * np.prod(rule.points ** np.array(powers), axis=1))
        assert np.isclose(got, exact, rtol=1e-13), powers


@pytest.mark.parametrize("order", [1, 2])
def test_partition_of_unity_and_gradients(order):
    el = element(order)
    lam = np.random.default_rng(0).dirichlet(np.ones(4), size=20)
    assert np.allclose(el.values(lam).sum(axis=1), 1.0)
    grad_lambda = np.random.default_rng(1).normal(size=(20, 4, 3))
    grad_lambda -= grad_lambda.mean(axis=1, keepdims=True)                # Σ_a ∇λ_a = 0
    grads = np.stack([el.gradients(lam[i], grad_lambda[i:i + 1])[0] for i in range(20)])
    assert np.allclose(grads.sum(axis=1), 0.0)                             # Σ_k ∇N_k = ∇1 = 0
    assert np.allclose(el.values(np.eye(4))[:, :4], np.eye(4))        # vertex nodes are nodal


@pytest.mark.parametrize("order", [1, 2])
def test_space_reproduces_quadratic_and_linear_fields(coarse_sphere, order):
    """Interpolating φ = x² + yz (P2) or φ = 2x − y + 3z (P1) at the DOFs reproduces ∇φ exactly."""
    space = FunctionSpace.on(coarse_sphere, order)
    x, y, z = space.dof_points.T
    phi = x**2 + y * z if order == 2 else 2 * x - y + 3 * z
    lam = np.array([0.1, 0.2, 0.3, 0.4])
    g = assembly.gradient_at(assembly.Discretisation.on(space, coarse_sphere), phi, lam)
    p = np.einsum("a,mai->mi", lam, coarse_sphere.nodes[coarse_sphere.tets])
    exact = (np.column_stack([2 * p[:, 0], p[:, 2], p[:, 1]]) if order == 2
             else np.tile([2.0, -1.0, 3.0], (len(p), 1)))
    assert np.abs(g - exact).max() < 1e-9 * np.abs(exact).max()


def test_prolongation_embeds_p1_in_p2(coarse_sphere):
    p2 = FunctionSpace.on(coarse_sphere, 2)
    f = lambda pts: 1.0 + pts @ [0.3, -2.0, 0.7]  # noqa: E731  linear: exact in both spaces
    assert np.allclose(p2.prolongation_from_p1() @ f(coarse_sphere.nodes), f(p2.dof_points))


def test_two_level_preconditioner_gives_the_same_solution(coarse_sphere):
    space = FunctionSpace.on(coarse_sphere, 2)
    sigma = coarse_sphere.conductivity()
    matrix = assembly.stiffness(assembly.Discretisation.on(space, coarse_sphere, sigma))
    rhs = np.random.default_rng(1).normal(size=space.n_dofs)
    plain, _ = GroundedAMGSolver(matrix, tol=1e-12).solve(rhs)
    two_level, info = GroundedAMGSolver(matrix, tol=1e-12, coarse=space.prolongation_from_p1()).solve(rhs)
    assert np.abs(two_level - plain).max() < 1e-8 * np.abs(plain).max()
    assert info.residual < 1e-12
