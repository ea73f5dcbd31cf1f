"""Anisotropic conductivity: patch test, rotation invariance, bad tensors."""
import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import MeshError
from tmsfield.head_models.io import load_tensors
from tmsfield.solver.fem import assembly
from tmsfield.solver.fem.linear import GroundedAMGSolver
from tmsfield.solver.fem.space import FunctionSpace


def _rotation(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _tensors(n, seed=0):
    """Random symmetric positive definite tensors, eigenvalues 0.05–1 S/m."""
    rng = np.random.default_rng(seed)
    rot = np.array([_rotation(s) for s in rng.integers(0, 10**6, n)])
    return np.einsum("mij,mj,mkj->mik", rot, rng.uniform(0.05, 1.0, (n, 3)), rot)


@pytest.fixture(scope="module")
def ball():
    return tf.head_models.concentric_spheres(radii=(0.05,), tags=(1,), edge_length=0.012)


@pytest.mark.parametrize("order", [1, 2])
def test_uniform_dadt_is_cancelled_exactly(ball, order):
    """Patch test: with a uniform ∂A/∂t = a0 and insulating boundaries, φ = −a0·x is the exact
    solution for any (even heterogeneous) anisotropic σ, so E must vanish to round-off."""
    sigma = _tensors(ball.n_tets)
    space = FunctionSpace.on(ball, order)
    a0 = np.array([1.0, -2.0, 0.5])
    dadt = np.tile(a0, (space.n_dofs, 1))
    d = assembly.Discretisation.on(space, ball, sigma)
    matrix = assembly.stiffness(d)
    rhs = assembly.load_vector(d, dadt)
    phi, _ = GroundedAMGSolver(matrix, tol=1e-13).solve(rhs)
    exact = -space.dof_points @ a0
    assert np.abs((phi - phi[0]) - (exact - exact[0])).max() < 1e-9 * np.abs(exact).max()
    E = assembly.field_at(d, phi, dadt, np.full(4, 0.25))
    assert np.abs(E).max() < 1e-8 * np.linalg.norm(a0)


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
@pytest.mark.parametrize("order", [1, 2])
def test_rotated_tensor_gives_rotated_solution(ball, order):
    rot = _rotation(7)
    sigma = _tensors(ball.n_tets, seed=3)
    coil = tf.Coil(dipole_positions=[[0.01, 0.02, 0.07]], dipole_moments=[[0.3, -0.5, 1.0]])
    pose = tf.CoilPose(np.eye(4))
    turn = np.eye(4)
    turn[:3, :3] = rot
    moved = tf.HeadMesh(ball.nodes @ rot.T, ball.tets, ball.tags)
    a = tf.FieldSolver(ball, order=order, tensors=sigma, tol=1e-12).solve(coil, pose)
    b = tf.FieldSolver(moved, order=order, tensors=rot @ sigma @ rot.T, tol=1e-12).solve(coil, tf.CoilPose(turn))
    assert np.abs(b.E - a.E @ rot.T).max() < 1e-7 * np.abs(a.E).max()
    # and anisotropy matters: the isotropic field differs
    iso = tf.FieldSolver(ball, order=order, tol=1e-12).solve(coil, pose)
    assert np.abs(iso.E - a.E).max() > 0.01 * np.abs(a.E).max()


def test_bad_tensors_are_named(ball):
    sigma = _tensors(ball.n_tets)
    bad = sigma.copy()
    bad[5, 0, 1] += 0.1
    with pytest.raises(MeshError, match="element 5 .*not symmetric"):
        tf.FieldSolver(ball, tensors=bad)
    bad = sigma.copy()
    bad[9] = -np.eye(3)
    with pytest.raises(MeshError, match="element 9 .*not positive definite"):
        tf.FieldSolver(ball, tensors=bad)
    with pytest.raises(MeshError, match="shape"):
        tf.FieldSolver(ball, tensors=sigma[:-1])


def test_load_tensors_from_npy_and_mesh(ball, tmp_path):
    from tmsfield.head_models.io import to_meshio, write_mesh
    sigma = _tensors(ball.n_tets)
    np.save(tmp_path / "sigma.npy", sigma)
    assert np.array_equal(load_tensors(tmp_path / "sigma.npy", ball.n_tets), sigma)
    write_mesh(to_meshio(ball, cell_data={"sigma": sigma.reshape(-1, 9)}), tmp_path / "dti.vtu")
    assert np.allclose(load_tensors(tmp_path / "dti.vtu", ball.n_tets), sigma)
