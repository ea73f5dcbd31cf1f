"""The array backends: the strict device emulation refuses what cupy refuses, and the FEM gives
the same answer on every backend (the GPU case runs where cupy finds a device)."""
import numpy as np
import pytest
import scipy.sparse as sp

import tmsfield as tf
from tmsfield.core import backend as backend_module
from tmsfield.core import emulation
from tmsfield.core.backend import backend_of, emulated_backend
from tmsfield.solver.fem.linear import GroundedAMGSolver
from tmsfield.solver.fem.multigrid import Multigrid

xp = emulation.xp


def test_emulation_refuses_implicit_transfers_as_cupy_does():
    a = xp.asarray(np.arange(6.0).reshape(2, 3))
    host = np.ones(3)
    mistakes = [lambda: np.asarray(a), lambda: np.sum(a), lambda: a + host, lambda: host * a[0],
                lambda: xp.sum(host), lambda: a[np.array([0])], lambda: emulation.sparse.identity(3) @ host]
    for mistake in mistakes:
        with pytest.raises(TypeError, match="device emulation"):
            mistake()


def test_emulation_computes_what_numpy_computes():
    host = np.random.default_rng(0).normal(size=(5, 3))
    a = xp.asarray(host)
    assert isinstance(a, emulation.DeviceArray)
    assert np.array_equal(xp.asnumpy(xp.einsum("ij,ij->i", a, a)), np.einsum("ij,ij->i", host, host))
    assert float(a.sum()) == host.sum() and a.T.shape == (3, 5)
    matrix = sp.random(5, 5, density=0.5, random_state=1, format="csr")
    assert np.allclose((emulation.sparse.csr_matrix(matrix) @ a).get(), matrix @ host)
    assert backend_of(a).name == "emulated" and backend_of(host).name == "cpu"


def _poisson(n=400):
    """A 2-D 5-point Laplacian plus a small mass term: symmetric positive definite."""
    one = sp.diags([-np.ones(19), 2 * np.ones(20), -np.ones(19)], [-1, 0, 1])
    return (sp.kron(one, sp.identity(20)) + sp.kron(sp.identity(20), one) + 1e-3 * sp.identity(n)).tocsr()


def test_device_multigrid_is_symmetric_positive_definite():
    """CG needs a symmetric positive definite preconditioner: xᵀM y = yᵀM x and xᵀM x > 0 for
    the Chebyshev-smoothed V-cycle (same polynomial before and after the coarse correction)."""
    import pyamg
    be = emulated_backend()
    A = _poisson()
    hierarchy = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric", max_coarse=50)
    cycle = Multigrid([(level.A, level.P) for level in hierarchy.levels[:-1]], hierarchy.levels[-1].A, be)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2, A.shape[0]))
    Mx, My = cycle(be.asarray(x)).get(), cycle(be.asarray(y)).get()
    assert abs(x @ My - y @ Mx) < 1e-12 * abs(x @ My)
    assert x @ Mx > 0 and y @ My > 0
    columns = cycle(be.asarray(np.column_stack([x, y]))).get()          # blocks: column by column
    assert np.allclose(columns, np.column_stack([Mx, My]), rtol=1e-13, atol=0)


def test_grounded_solver_gives_the_same_solution_on_both_backends():
    A = _poisson()
    rhs = np.random.default_rng(4).normal(size=A.shape[0])
    cpu, cpu_info = GroundedAMGSolver(A, tol=1e-12).solve(rhs)
    be = emulated_backend()
    device, info = GroundedAMGSolver(be.sparse.csr_matrix(A), tol=1e-12, backend=be).solve(be.asarray(rhs))
    assert cpu[0] == 0 and float(device[0]) == 0
    # both at relative residual 1e-12 of a matrix with condition number ~1e3: agreement ~1e-9
    assert np.abs(device.get() - cpu).max() < 1e-8 * np.abs(cpu).max()
    assert info.residual < 1e-12 and cpu_info.residual < 1e-12


@pytest.mark.parametrize("order", [1, 2])
def test_fem_gives_the_same_field_on_every_backend(coarse_sphere, backend, order):
    """E of one placement on ``backend`` against the CPU. Both solves stop at relative residual
    1e-10; their preconditioners differ (Gauss–Seidel vs Chebyshev smoothing), so the
    potentials differ by at most ~κ·1e-10 relative — measured 2e-10 (P1) and 1e-10 (P2) of
    max |E| on this sphere; 1e-7 leaves three orders of margin and still fails any transfer or
    indexing mistake, which changes E at the percent level."""
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0.01, 0.0, 0.095))
    reference = tf.FieldSolver(coarse_sphere, order=order, tol=1e-10, backend="cpu").solve(coil, pose, primary="fmm")
    solver = tf.FieldSolver(coarse_sphere, order=order, tol=1e-10, backend=backend)
    result = solver.solve(coil, pose, primary="fmm")
    assert result.provenance["solver"]["backend"] == backend.name
    assert isinstance(result.E, np.ndarray) and isinstance(result.unknowns, np.ndarray)
    scale = np.abs(reference.E).max()
    assert np.abs(result.E - reference.E).max() < 1e-7 * scale
    batch = solver.solve_many(coil, [pose, pose], primary="fmm", verbose=False)
    assert np.abs(batch[1].E - reference.E).max() < 1e-7 * scale
    # the recovery and the sampling run on the solver's backend too
    assert np.abs(result.E_corners - reference.E_corners).max() < 1e-7 * scale
    points = np.random.default_rng(6).uniform(-0.05, 0.05, size=(50, 3))        # all inside the 85 mm sphere
    for interpolation in ("native", "recovered"):
        ours, theirs = (r.sample(points, interpolation=interpolation) for r in (result, reference))
        assert np.isfinite(theirs).all() and np.abs(ours - theirs).max() < 1e-7 * scale


def test_inverse_power_sums_match_the_pairwise_formula(backend):
    """The tiled GEMM form of Σ w/|r − s|^p against the plain pairwise formula, with a target
    that coincides with a source (skipped) and tiles smaller than the target count."""
    from tmsfield.core import pairwise
    rng = np.random.default_rng(5)
    sources = rng.uniform(-0.1, 0.1, size=(300, 3))
    targets = np.vstack([rng.uniform(-0.1, 0.1, size=(200, 3)), sources[:1]])
    weights = rng.normal(size=(300, 2))
    d = np.linalg.norm(targets[:, None] - sources[None], axis=2)
    inverse = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    sums = pairwise.inverse_power_sums(targets, sources, {1: weights, 3: weights}, backend)
    for p in (1, 3):
        got = backend.to_numpy(sums[p])
        exact = inverse**p @ weights
        # expansion rounding ~ε|r|²/|r − s|² (closest pair here ~2 mm): 1e-10 relative bounds it
        assert np.abs(got - exact).max() < 1e-10 * np.abs(exact).max()


@pytest.fixture(scope="module")
def bem_reference(coarse_sphere):
    """A tight BEM solve by an independent summation: fmm3dpy at eps 1e-10, GMRES to 1e-10."""
    from tmsfield.solver.options import BEMOptions
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0.0, 0.0, 0.095))
    tight = BEMOptions(far_field="fmm", tol=1e-10, fmm_eps=1e-10)
    return pose, tf.FieldSolver(coarse_sphere, method="bem", options=tight, backend="cpu").solve(COIL, pose)


COIL = tf.coils.figure8(model="dipoles")


@pytest.mark.parametrize("backend", ["emulated", pytest.param("gpu", marks=pytest.mark.gpu)], indirect=True)
def test_bem_direct_far_field_matches_the_fmm(coarse_sphere, backend, bem_reference):
    """The BEM with its collocation product summed directly on ``backend`` (GMRES to 1e-6)
    against the tight FMM solve: measured 4.4e-7 of max |E| on this sphere, as the GMRES
    tolerance allows (the default dense float32 operator differs from both by 3.8e-5)."""
    pose, reference = bem_reference
    solver = tf.FieldSolver(coarse_sphere, method="bem", far_field="direct", backend=backend)
    result = solver.solve(COIL, pose)
    assert result.provenance["solver"]["far_field"] == "direct"
    assert result.provenance["solver"]["backend"] == backend.name
    assert np.abs(result.E - reference.E).max() < 2e-6 * np.abs(reference.E).max()


def test_cli_backend_gpu_without_a_gpu_is_a_clear_error(tmp_path, monkeypatch):
    """``--backend gpu`` where cupy finds no device: one line naming the fix, no traceback, no output."""
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    monkeypatch.setattr(backend_module, "_gpu_or_reason", lambda: "ModuleNotFoundError: No module named 'cupy'")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--backend", "gpu",
                                       "--no-picture", "--out", str(out)])
    assert result.exit_code != 0
    assert "backend='gpu' requested but no GPU is usable" in result.output and "tmsfield[gpu]" in result.output
    assert "Traceback" not in result.output and not out.exists()
