"""Placement optimisation: reciprocity and the auxiliary dipole method against brute-force
FEM solves and the analytic sphere field; bad input; the CLI. Coarse P2 sphere (12 mm)."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import PlacementError, TmsFieldError
from tmsfield.optimize import AuxiliaryCoil, PolarGrid, ReciprocityField
from tmsfield.optimize.adm import (
    correlate,
    lagrange_weights,
    rotation_synthesis,
    trig_weights,
)
from tmsfield.optimize.positions import handle_rotation
from tmsfield.solver.fem import assembly
from tmsfield.solver.fem.assembly import dipole_load
from tmsfield.solver.fem.solver import FEMSolver
from tmsfield.validation.analytic import sphere_e_field

TARGET = np.array([0.005, 0.01, 0.07])          # 25 mm below the scalp of the 95 mm sphere


@pytest.fixture(scope="module")
def solver(coarse_sphere):
    return FEMSolver(coarse_sphere, order=2)


@pytest.fixture(scope="module")
def field(solver):
    return ReciprocityField(solver, TARGET)


@pytest.fixture(scope="module")
def poses(coarse_sphere):
    return [tf.CoilPose.on_head(coarse_sphere, center=(0.0, 0.0, 0.095), handle=(0, 1, 0), distance=0.004),
            tf.CoilPose.on_head(coarse_sphere, center=(0.02, 0.03, 0.09), handle=(1, 1, 0), distance=0.004)]


@pytest.mark.parametrize("order", [1, 2])
def test_dipole_load_is_the_adjoint_of_point_evaluation(coarse_sphere, order):
    """g·φ = p·∇φ_h(r0) in r0's element for any φ: the discrete reciprocity identity."""
    space = tf.solver.fem.space.FunctionSpace.on(coarse_sphere, order)
    element, bary = coarse_sphere.locate(TARGET[None])
    p = np.array([0.3, -0.5, 0.8])
    d = assembly.Discretisation.on(space, coarse_sphere)
    g = dipole_load(d, element[0], bary[0], p[None])[:, 0]
    phi = np.random.default_rng(1).normal(size=space.n_dofs)
    grad = assembly.gradient_at(d, phi, bary, element)[0]
    assert g @ phi == pytest.approx(p @ grad, rel=1e-12)
    assert abs(g.sum()) < 1e-9 * np.abs(g).max()          # compatible with the insulating boundary


def test_volume_field_fmm_matches_direct(field, backend):
    """fmm3dpy at eps 1e-6 against the tiled direct sums on each backend (the GPU's path)."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(20, 3)) * 0.01 + [0.0, 0.0, 0.1]
    fmm = field.fields(points, want="AB", eps=1e-6)
    direct = field.currents.fields_direct(points, want="AB", backend=backend)
    for key in "AB":
        assert np.abs(fmm[key] - direct[key]).max() < 1e-5 * np.abs(direct[key]).max()


@pytest.mark.parametrize("model", ["dipoles", "wire"])
def test_reciprocity_matches_brute_force_fem(solver, field, poses, model):
    """E at the target by reciprocity (3 solves, any placement) vs a full FEM solve per placement:
    within 1 % (measured 0.2–0.4 % on this 12 mm mesh: Biot–Savart quadrature next to the
    scalp and the P2 interpolation of dA/dt in the coil solve)."""
    coil = tf.coils.figure8(model=model)
    predicted = field.evaluate(coil, poses)
    for pose, E_rec in zip(poses, predicted):
        E_fem = solver.solve(coil, pose).sample(TARGET[None], interpolation="native")[0]
        assert np.linalg.norm(E_rec - E_fem) < 0.01 * np.linalg.norm(E_fem)
        if model == "dipoles":
            placed = coil.transformed(pose.matrix)
            E_ref = sphere_e_field(TARGET[None], placed.dipole_positions, placed.dipole_moments, 1e6)[0]
            assert np.linalg.norm(E_rec - E_ref) < 0.01 * np.linalg.norm(E_ref)


def test_interpolation_weights_reproduce_their_spaces():
    nodes = np.polynomial.legendre.leggauss(5)[0]
    x = np.linspace(-1.2, 1.2, 7)
    assert np.allclose(lagrange_weights(x, nodes) @ nodes**4, x**4)
    theta = np.linspace(0, 7, 11)
    grid = 2 * np.pi * np.arange(9) / 9
    f = lambda t: 1 + np.cos(3 * t) - 2 * np.sin(4 * t + 0.3)
    assert np.allclose(trig_weights(theta, 9) @ f(grid), f(theta))


@pytest.mark.parametrize("model", ["dipoles", "wire"])
def test_adm_rotations_match_direct_reciprocity(coarse_sphere, field, model):
    """All handle angles from one cross-correlation vs the coil's own elements per angle."""
    coil = tf.coils.figure8(model=model)
    base = tf.CoilPose.on_head(coarse_sphere, center=(0.01, 0.02, 0.095), handle=(0, 1, 0), distance=0.004).matrix
    angles = np.deg2rad([0.0, 17.0, 90.0, 200.0, 333.0])
    direct = field.evaluate(coil, np.stack([base @ handle_rotation(a) for a in angles]))
    grid = PolarGrid.for_coil(coil)
    aux = AuxiliaryCoil.from_coil(coil, grid, didt=1e6)
    R = base[:3, :3]
    f = field.fields(grid.nodes().reshape(-1, 3) @ R.T + base[:3, 3], want="AB")
    local = {k: grid.to_local((v @ R).reshape((3,) + grid.shape + (3,))) for k, v in f.items()}
    adm = -correlate(aux.spectra(), local, rotation_synthesis(angles, grid.n_angles)).T
    assert np.abs(adm - direct).max() < 1e-4 * np.abs(direct).max()


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_optimize_placement_finds_and_verifies_the_best_pose(coarse_sphere, solver):
    coil = tf.coils.figure8()
    target = np.array([0.01, 0.0, 0.075])
    res = tf.optimize_placement(coarse_sphere, coil, target, direction=(1, 0, 0), solver=solver, n_positions=7,
                                radius=0.015, angle_step_deg=10.0, verbose=False)
    assert res.values.shape == (7, 36) and res.E.shape == (7, 36, 1)
    assert res.values[res.best] == res.values.max()
    assert res.verification["rel_diff_adm"] < 0.01 and res.verification["rel_diff_adm_vs_direct"] < 1e-4
    # figure-8: E under the centre is along the handle, so the handle ends up along +x
    assert res.pose.handle @ [1, 0, 0] > 0.95
    assert res.matsimnibs[:3, 3] == pytest.approx(1e3 * res.pose.center)
    assert "evaluations" in res.summary() and res.timings["rotations"] > 0


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_magnitude_objective_uses_three_directions(coarse_sphere, solver):
    res = tf.optimize_placement(coarse_sphere, tf.coils.figure8(), (0.01, 0.0, 0.075), solver=solver,
                                n_positions=1, angle_step_deg=30.0, verify=False, verbose=False)
    assert res.E.shape == (1, 12, 3)
    assert np.allclose(res.values, np.linalg.norm(res.E, axis=-1))
    assert res.verification == {}


@pytest.mark.parametrize("target, direction, match", [
    ((0.0, 0.0, 0.2), None, "outside head"),
    ((np.nan, 0.0, 0.07), None, "finite"),
    ((0.0, 0.0, 0.093), None, "tissue tag 5"),
    ((0.0, 0.0, 0.07), (0.0, 0.0, 0.0), "non-zero"),
    ((0.0, 0.0, 0.07), (np.nan, 1.0, 0.0), "non-zero"),
])
def test_bad_targets_and_directions(coarse_sphere, target, direction, match):
    with pytest.raises(PlacementError, match=match):
        tf.optimize_placement(coarse_sphere, tf.coils.figure8(), target, direction=direction, verbose=False)


def test_bad_settings(coarse_sphere, field):
    coil = tf.coils.figure8()
    with pytest.raises(TmsFieldError, match="objective"):
        tf.optimize_placement(coarse_sphere, coil, TARGET, objective="depth", verbose=False)
    with pytest.raises(TmsFieldError, match="angle step"):
        tf.optimize_placement(coarse_sphere, coil, TARGET, angle_step_deg=0, verbose=False)
    with pytest.raises(TmsFieldError, match="odd"):
        PolarGrid((0.0, 0.01), 8, (0.0,))
    with pytest.raises(TmsFieldError, match="beyond the polar grid"):
        AuxiliaryCoil.from_coil(coil, PolarGrid((0.0, 0.01), 9, (0.0,)))
    with pytest.raises(TmsFieldError, match="FEMSolver"):
        ReciprocityField(object(), TARGET)


def test_cli_optimize(tmp_path):
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    out = tmp_path / "opt"
    r = CliRunner().invoke(main, ["optimize", "--head", "sphere", "--edge-length-mm", "12", "--target-mm", "10,0,75",
                                  "--positions", "3",
                                  "--angle-step-deg", "30", "--direction", "1,0,0", "--no-verify", "--quiet",
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    m = np.loadtxt(out / "best_matsimnibs.txt")
    assert m.shape == (4, 4) and 90 < m[2, 3] < 110          # mm, above the 95 mm scalp
    import tmsfield as tf
    loaded = tf.load_result(out / "placement.npz")
    assert loaded.values.shape == (3, 12) and np.allclose(loaded.matsimnibs, m, rtol=1e-8, atol=1e-9)   # 9 digits
    bad = CliRunner().invoke(main, ["optimize", "--head", "sphere", "--edge-length-mm", "12", "--target-mm", "0,0,300",
                                    "--quiet",
                                    "--out", str(out)])
    assert bad.exit_code != 0 and "outside head" in bad.output
