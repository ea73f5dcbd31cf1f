"""The solver API: FieldSolver as the base class, options dataclasses recorded in provenance,
``primary=`` for the primary-field algorithm, scoped ``verbose``, shared argument checks."""
import dataclasses
import logging
import re
from pathlib import Path

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.checks import check_choice
from tmsfield.core.errors import TmsFieldError
from tmsfield.core.progress import scoped_verbose, verbose_scope
from tmsfield.solver import BEMOptions, FEMOptions
from tmsfield.solver.bem import BEMSolver, charge_field
from tmsfield.solver.bem import solver as bem_solver
from tmsfield.solver.fem.solver import FEMSolver

#: every test runs on the default backend and again through the strict device emulation
pytestmark = pytest.mark.usefixtures("solver_backend")

ROOT = Path(tf.__file__).parent
COIL = tf.coils.figure8(model="dipoles", dipole_cell=0.006)


def _pose(head):
    return tf.CoilPose.on_head(head, center=(0, 0, 0.095))


def _constants(*modules):
    """Upper-case module attributes (the settings that must not change at run time)."""
    return {(m.__name__, k): repr(v) for m in modules for k, v in vars(m).items() if k.isupper()}


@pytest.fixture(scope="module")
def fem_p1(coarse_sphere):
    return tf.FieldSolver(coarse_sphere, order=1)


def test_field_solver_is_the_base_class_of_both_solvers(coarse_sphere, fem_p1):
    assert isinstance(fem_p1, tf.FieldSolver) and type(fem_p1) is FEMSolver
    bem = tf.FieldSolver(coarse_sphere, method="bem")
    assert isinstance(bem, tf.FieldSolver) and type(bem) is BEMSolver
    assert issubclass(FEMSolver, tf.FieldSolver) and issubclass(BEMSolver, tf.FieldSolver)
    assert tf.FieldSolver.kinds() == {"bem": BEMSolver, "fem": FEMSolver}
    with pytest.raises(TmsFieldError, match=r"method must be one of \('bem', 'fem'\), got 'xfem'"):
        tf.FieldSolver(coarse_sphere, method="xfem")
    with pytest.raises(TmsFieldError, match="FEMSolver is the 'fem' solver"):
        FEMSolver(coarse_sphere, method="bem")


def test_fem_options_are_recorded_and_keywords_override_them(coarse_sphere, fem_p1):
    assert FEMOptions() == FEMOptions(order=2, tol=1e-8)
    assert fem_p1.options == FEMOptions(order=1)
    solver = tf.FieldSolver(coarse_sphere, options=FEMOptions(order=1, tol=1e-6))
    assert solver.order == 1 and solver.linear.tol == 1e-6
    assert FEMSolver(coarse_sphere, options=FEMOptions(order=1), tol=1e-7).options == FEMOptions(order=1, tol=1e-7)
    res = solver.solve(COIL, _pose(coarse_sphere))
    assert res.provenance["solver"]["options"] == {"order": 1, "tol": 1e-6, "primary_load": "dofs"}
    with pytest.raises(TmsFieldError, match=r"order must be one of \(1, 2\), got 3"):
        FEMOptions(order=3)
    with pytest.raises(TypeError, match="must be a FEMOptions"):
        FEMSolver(coarse_sphere, options=BEMOptions())
    with pytest.raises(dataclasses.FrozenInstanceError):
        FEMOptions().tol = 1e-3                       # frozen


def test_bem_options_through_arguments_only_recorded_in_provenance(coarse_sphere):
    before = _constants(bem_solver, charge_field, tf.solver.options)
    options = BEMOptions(max_iterations=300, restart=50, near_rule=1, intermediate_factor=0.0)
    solver = BEMSolver(coarse_sphere, options=options)
    res = solver.solve(COIL, _pose(coarse_sphere))
    recorded = res.provenance["solver"]["options"]
    assert recorded == options.as_dict()
    assert recorded["max_iterations"] == 300 and recorded["restart"] == 50 and recorded["near_rule"] == 1
    assert solver.charges.near_rule == 1
    assert _constants(bem_solver, charge_field, tf.solver.options) == before
    assert BEMOptions() == BEMOptions(tol=1e-6, restart=100, max_iterations=1000, near_factor=2.0, near_rule=3,
                                      intermediate_factor=2.0, far_charges=3, fmm_eps=1e-3, far_field="auto")
    # the keyword arguments of old still work and override the options
    assert BEMSolver(coarse_sphere, options=options, tol=1e-5).options == options.replace(tol=1e-5)
    # GMRES settings on the same prepared operator
    tight = solver.with_solve_options(tol=1e-8)
    assert tight.tol == 1e-8 and solver.tol == 1e-6 and tight.charges is solver.charges
    with pytest.raises(TypeError, match="with_solve_options changes only"):
        solver.with_solve_options(near_factor=3.0)
    with pytest.raises(TmsFieldError,
                       match=r"far_field must be one of \('auto', 'dense', 'fmm', 'direct'\), got 'fast'"):
        BEMOptions(far_field="fast")
    for bad in (-1, 7, 1.5):
        with pytest.raises(TmsFieldError, match=rf"adjacent_level must be an integer from 0 to 6, got {bad}"):
            BEMOptions(adjacent_level=bad)
    with pytest.raises(TmsFieldError, match=r"far_charges must be one of \(1, 3\), got 2"):
        BEMOptions(far_charges=2)
    with pytest.raises(TmsFieldError, match=r"primary_load must be one of \('dofs', 'rule'\), got 'quadrature'"):
        FEMOptions(primary_load="quadrature")


def test_no_study_or_benchmark_assigns_module_settings():
    # the studies vary settings by building solvers with options, never by patching modules
    pattern = re.compile(r"^\s*[\w.]*\b(charge_field|bem_solver|linear|fmm|primary)\.[A-Z][A-Z0-9_]*(\[[^]]*\])?"
                         r"(\s*,\s*[\w.]+)*\s*=(?!=)", re.M)
    offenders = [f"{p.relative_to(ROOT)}:{m.group(0).strip()}"
                 for folder in ("validation", "benchmarks", "examples")
                 for p in sorted((ROOT / folder).rglob("*.py")) for m in pattern.finditer(p.read_text())]
    assert not offenders


def test_primary_selects_the_primary_field_algorithm(coarse_sphere, fem_p1):
    pose = _pose(coarse_sphere)
    direct = fem_p1.solve(COIL, pose, primary="direct")
    fmm = fem_p1.solve(COIL, pose, primary="fmm")
    assert np.allclose(direct.E, fmm.E, rtol=0, atol=1e-5 * np.abs(direct.E).max())
    many = fem_p1.solve_many(COIL, [pose], primary="direct", verbose=False)
    assert np.allclose(many[0].E, direct.E, rtol=1e-6, atol=1e-9 * np.abs(direct.E).max())
    for call in (lambda: fem_p1.solve(COIL, pose, method="fmm"),
                 lambda: fem_p1.solve_many(COIL, [pose], method="fmm"),
                 lambda: fem_p1.solve_batch([COIL], [pose], didt=1e6, method="fmm", backend="auto", previous=None)):
        with pytest.raises(TypeError, match=r"primary-field algorithm is primary=.*method= names the solver kind"):
            call()
    with pytest.raises(TmsFieldError, match=r"primary must be one of \('auto', 'direct', 'fmm'\), got 'fast'"):
        fem_p1.solve(COIL, pose, primary="fast")


def test_fem_public_surface_for_reciprocity(coarse_sphere, fem_p1):
    head = coarse_sphere
    element = int(np.flatnonzero(head.tags == head.tags.min())[0])
    rhs = fem_p1.dipole_load(element, np.full(4, 0.25), np.eye(3))
    assert rhs.shape == (fem_p1.n_dofs, 3)
    phi, info = fem_p1.solve_load(rhs[:, 0])
    assert phi.shape == (fem_p1.n_dofs,) and info.residual <= info.tol
    J = fem_p1.current_density(phi, np.full(4, 0.25), [element, element + 1])
    grads = head.basis_gradients[[element, element + 1]]
    expected = -fem_p1.sigma[[element, element + 1], None] * np.einsum("mai,ma->mi", grads, phi[head.tets[[element,
                                                                                                        element + 1]]])
    assert np.allclose(J, expected)
    assert fem_p1.current_density(phi, np.full(4, 0.25)).shape == (head.n_tets, 3)


def test_optimize_uses_only_the_public_solver_surface():
    for name in ("reciprocity.py", "biot_savart.py", "placement.py"):
        text = (ROOT / "optimize" / name).read_text()
        assert "solver.fem import assembly" not in text and "from ..solver.fem.assembly" not in text
        assert not re.search(r"solver\.(space|linear|sigma)\b", text), name


def test_scoped_verbose_restores_the_level(coarse_sphere):
    log = logging.getLogger("tmsfield")
    old_level, old_handlers = log.level, list(log.handlers)
    try:
        log.setLevel(logging.ERROR)
        seen = []

        @scoped_verbose
        def work(x, *, verbose=None):
            seen.append(log.level)
            if x < 0:
                raise RuntimeError("boom")
            return x

        assert work(1, verbose=True) == 1 and seen[-1] == logging.INFO
        assert log.level == logging.ERROR and log.handlers == old_handlers
        assert work(1, verbose="debug") == 1 and seen[-1] == logging.DEBUG
        assert work(1) == 1 and seen[-1] == logging.ERROR             # None: unchanged
        with pytest.raises(RuntimeError):
            work(-1, verbose=False)
        assert seen[-1] == logging.WARNING and log.level == logging.ERROR
        with verbose_scope(True):
            assert log.level == logging.INFO
        assert log.level == logging.ERROR
        # a public function: simulate(verbose=True) leaves the package level as it found it
        tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), order=1, verbose=True)
        assert log.level == logging.ERROR and log.handlers == old_handlers
        with pytest.raises(TmsFieldError):
            tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), method="xfem", verbose="debug")
        assert log.level == logging.ERROR and log.handlers == old_handlers
    finally:
        log.setLevel(old_level)


def test_check_choice():
    assert check_choice("a", ("a", "b"), "mode") == "a"
    assert check_choice(2, {1: "x", 2: "y"}, "order") == 2
    with pytest.raises(TmsFieldError, match=r"^mode must be one of \('a', 'b'\), got 'c'$"):
        check_choice("c", ("a", "b"), "mode")
    with pytest.raises(TmsFieldError, match="got \\[1\\]"):
        check_choice([1], ("a",), "mode")                 # unhashable values are refused, not a crash
    with pytest.raises(ValueError, match="backend must be one of"):
        check_choice("tpu", ("cpu",), "backend", error=ValueError)


def test_named_tissue_sets():
    from tmsfield.head_models import tissues
    assert tissues.BRAIN_TAGS == (1, 2) and tissues.SCALP_TAGS == (5,)
    assert tissues.NON_TARGET_TAGS == (4, 5, 7, 8) and tissues.BONE_TAGS == (4, 7, 8)
    for tag in tissues.BRAIN_TAGS + tissues.BONE_TAGS + tissues.SCALP_TAGS:
        assert tag in tissues.TISSUES
