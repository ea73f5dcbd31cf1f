import numpy as np
import pytest
from conftest import data_file
from loops import MU0, loop_a, loop_b
from scipy.integrate import quad

import tmsfield as tf
from tmsfield.coils.builders import SEGMENTS_PER_TURN
from tmsfield.core.errors import CoilError, FileFormatError
from tmsfield.core.fmm import kernel_scale

RADIUS = 0.04


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def _points(n=400, seed=0):
    """Points 5–60 mm from a 40 mm loop in z=0: off the axis, both sides."""
    rng = np.random.default_rng(seed)
    p = np.column_stack([rng.uniform(-0.06, 0.06, (n, 2)), rng.uniform(0.005, 0.06, n) * rng.choice([-1, 1], n)])
    return p[np.hypot(p[:, 0], p[:, 1]) > 1e-3]


def _polygon_coil(vertices):
    return tf.Coil(segment_starts=vertices, segment_ends=np.roll(vertices, -1, axis=0))


def _fit_order(ns, errors):
    return np.polyfit(np.log(ns), np.log(errors), 1)[0]


def test_segment_b_exact_for_square_loop():
    s, current = 0.05, 3.0
    v = 0.5 * s * np.array([[1, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, 0]])
    z = np.array([0.0, 0.01, 0.03, 0.2])
    b = _polygon_coil(v).b_field(np.column_stack([0 * z, 0 * z, z]), current=current, method="direct")
    exact = MU0 * current * s**2 / (2 * np.pi * (z**2 + s**2 / 4) * np.sqrt(z**2 + s**2 / 2))
    assert np.allclose(b[:, 2], exact, rtol=1e-13, atol=0)
    assert np.allclose(b[:, :2], 0, atol=1e-13 * exact.max())


def test_segment_a_matches_quadrature():
    a, b = np.array([0.01, -0.02, 0.0]), np.array([-0.015, 0.03, 0.01])
    r = np.array([0.02, 0.005, 0.03])
    coil = tf.Coil(segment_starts=[a], segment_ends=[b])
    integral = quad(lambda t: 1 / np.linalg.norm(r - (a + t * (b - a))), 0, 1, epsabs=0, epsrel=1e-13)[0]
    expected = 1e-7 * integral * (b - a)  # μ0/4π ∫ dl/|r-l|, dl = (b-a) dt
    assert np.allclose(coil.vector_potential([r], method="direct")[0], expected, rtol=1e-12)


def test_inscribed_polygon_converges_at_second_order():
    """Straight segments on a circle: the error of B and A falls as N^-2."""
    pts = _points()
    ns = np.array([32, 64, 128, 256, 512])
    err_b, err_a = [], []
    for n in ns:
        phi = 2 * np.pi * np.arange(n) / n
        coil = _polygon_coil(RADIUS * np.column_stack([np.cos(phi), np.sin(phi), 0 * phi]))
        err_b.append(_rel(coil.b_field(pts, method="direct"), loop_b(pts, RADIUS)))
        err_a.append(_rel(coil.vector_potential(pts, method="direct"), loop_a(pts, RADIUS)))
    assert abs(_fit_order(ns, err_b) + 2) < 0.05
    assert abs(_fit_order(ns, err_a) + 2) < 0.05


def test_builder_loop_converges_at_fourth_order_and_default_is_below_1e6():
    """circular() uses area-preserving vertices: the N^-2 term cancels, leaving N^-4."""
    pts = _points()
    ns = np.array([64, 128, 256, 512])
    errors = [_rel(tf.coils.circular(RADIUS, turns=1, height=0, segments_per_turn=n).b_field(pts, method="direct"),
                   loop_b(pts, RADIUS)) for n in ns]
    assert abs(_fit_order(ns, errors) + 4) < 0.3
    default = tf.coils.circular(RADIUS, turns=1, height=0)
    assert len(default.segment_starts) == SEGMENTS_PER_TURN
    b, a = default.b_field(pts, method="direct"), default.vector_potential(pts, method="direct")
    pointwise = np.linalg.norm(b - loop_b(pts, RADIUS), axis=1) / np.linalg.norm(loop_b(pts, RADIUS), axis=1)
    assert pointwise.max() < 1e-6 and _rel(a, loop_a(pts, RADIUS)) < 1e-6


def test_fmm_kernel_normalisation_is_measured():
    assert np.isclose(kernel_scale(), 1 / (4 * np.pi)) or np.isclose(kernel_scale(), 1.0)


@pytest.mark.parametrize("field", ["A", "B"])
@pytest.mark.parametrize("model", ["wire", "dipoles"])
def test_fmm_agrees_with_direct(model, field):
    """FMM at the default eps (fmm.FMM_EPS) within 1e-6 of the exact direct sums."""
    coil = tf.coils.figure8(model=model)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-0.05, 0.05, (3000, 3)) + [0, 0, 0.06]
    pts = np.vstack([pts, [[0.03, 0.0, -0.004 + 1e-4]]])  # 0.1 mm from a winding: near correction
    fn = coil.vector_potential if field == "A" else coil.b_field
    assert _rel(fn(pts, method="fmm"), fn(pts, method="direct")) < 1e-6


def test_b_is_curl_a():
    coil = tf.coils.figure8(wing_angle=15)
    pts = np.random.default_rng(2).uniform(-0.03, 0.03, (50, 3)) + [0, 0, 0.04]
    h = 1e-5
    jac = np.stack([(coil.vector_potential(pts + h * e, method="direct")
                     - coil.vector_potential(pts - h * e, method="direct")) / (2 * h) for e in np.eye(3)], axis=1)
    curl = np.stack([jac[:, 1, 2] - jac[:, 2, 1], jac[:, 2, 0] - jac[:, 0, 2], jac[:, 0, 1] - jac[:, 1, 0]], axis=1)
    assert _rel(curl, coil.b_field(pts, method="direct")) < 1e-6  # central differences: O(h²) ≈ 1e-8


def test_dipole_figure8_matches_wire_figure8():
    """Magnetic-shell and wire models of the same coil, 15–40 mm below it. Measured 1.3 %
    (the wire model's radial return leads carry current the shell model lacks)."""
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(-0.04, 0.04, (2000, 2)), rng.uniform(0.015, 0.04, 2000)])
    wire, shell = tf.coils.figure8(), tf.coils.figure8(model="dipoles")
    assert _rel(shell.dadt(pts, didt=1.0), wire.dadt(pts, didt=1.0)) < 0.02


def test_ccd_reproduces_direct_dipole_sum(shared_data):
    path = data_file(shared_data, "simnibs/Magstim_70mm_Fig8.ccd")
    coil = tf.coils.load(path)
    table = np.loadtxt(path, skiprows=3)  # independent parse: x y z mx my mz
    pts = np.random.default_rng(3).uniform(-0.03, 0.03, (30, 3)) + [0, 0, 0.03]
    ref = np.zeros_like(pts)
    for pos, m in zip(table[:, :3], table[:, 3:]):
        d = pts - pos
        ref += 1e-7 * np.cross(m, d) / np.linalg.norm(d, axis=1)[:, None] ** 3
    assert len(coil.dipole_positions) == len(table) == 2712
    assert _rel(coil.dadt(pts, didt=1.0, method="direct"), ref) < 1e-12
    assert _rel(coil.dadt(pts, didt=1.0, method="fmm"), ref) < 1e-6


def test_ccd_header_didt_limit(shared_data):
    coil = tf.coils.load(data_file(shared_data, "simnibs/testcoil.ccd"))
    assert coil.max_didt == (100.0e6,) and coil.name == "Test coil"


def test_ccd_write_read_roundtrip(tmp_path):
    coil = tf.coils.figure8(model="dipoles")
    tf.coils.save(coil, tmp_path / "f8.ccd")
    back = tf.coils.load(tmp_path / "f8.ccd")
    assert np.allclose(back.dipole_positions, coil.dipole_positions, rtol=1e-14, atol=0)
    assert np.allclose(back.dipole_moments, coil.dipole_moments, rtol=1e-14, atol=0)
    with pytest.raises(CoilError, match="segments"):
        tf.coils.save(tf.coils.figure8(), tmp_path / "wire.ccd")


def test_ccd_with_nan_is_a_clear_error(tmp_path):
    bad = tmp_path / "nan.ccd"
    bad.write_text("# bad coil\n2\n# dipoles\n0 0 0 0 0 1\n0.01 nan 0 0 0 1\n")
    with pytest.raises(CoilError, match=r"nan.ccd, line 5: NaN"):
        tf.coils.load(bad)


def test_truncated_ccd_is_a_clear_error(tmp_path):
    bad = tmp_path / "short.ccd"
    bad.write_text("# short coil\n3\n# dipoles\n0 0 0 0 0 1\n")
    with pytest.raises(FileFormatError, match="announces 3 dipoles but 1"):
        tf.coils.load(bad)


def test_tcd_two_stimulators(shared_data):
    coil = tf.coils.load(data_file(shared_data, "simnibs/two_stimulator_example_coil.tcd"))
    assert coil.n_stimulators == 2 and coil.max_didt == (122.22e6, 102.45e6)
    # points are segment midpoints: consecutive segments of one winding join end to start
    joins = np.linalg.norm(coil.segment_ends[:-1] - coil.segment_starts[1:], axis=1)
    assert np.mean(joins < 1e-9) > 0.95
    pts = np.array([[0.0, 0.01, 0.02], [0.01, -0.01, 0.03]])
    both = coil.dadt(pts, didt=(1.0, 2.0))
    assert np.allclose(both, coil.dadt(pts, didt=(1.0, 0.0)) + coil.dadt(pts, didt=(0.0, 2.0)), rtol=1e-12)
    with pytest.raises(CoilError, match="2 stimulator"):
        coil.dadt(pts, didt=(1.0, 2.0, 3.0))


def test_tcd_brainsway_h1_loads(shared_data):
    coil = tf.coils.load(data_file(shared_data, "simnibs/Brainsway_H1.tcd"))
    assert len(coil.segment_starts) > 1000 and coil.max_didt == (114.7e6,)


def test_coil_with_nan_positions():
    with pytest.raises(CoilError, match="non-finite dipole positions"):
        tf.Coil(dipole_positions=[[0, np.nan, 0]], dipole_moments=[[0, 0, 1]])


def test_direct_sums_on_each_backend(backend):
    """The xp-only kernels on numpy (and cupy where a GPU exists) against the closed form."""
    pts = _points()
    coil = tf.coils.circular(RADIUS, turns=1, height=0)
    b = coil.b_field(pts, method="direct", backend=backend)
    assert isinstance(b, np.ndarray) and _rel(b, loop_b(pts, RADIUS)) < 1e-6
