"""Results saved and loaded back (solver/results): FieldResult (FEM P1/P2, BEM), SurfaceFieldResult,
ThresholdResult and PlacementResult round trips through .npz; `tmsfield simulate` folders loaded
with ``tf.load_result`` and fed to thresholds and the CLI without a new solve. Coarse sphere."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.core.errors import FileFormatError
from tmsfield.neurons.result import ThresholdResult
from tmsfield.optimize.placement import PlacementResult
from tmsfield.optimize.positions import ScalpPositions
from tmsfield.solver.results import FieldResult, SurfaceFieldResult
from tmsfield.solver.results.archive import COIL_ARRAYS

INTERPOLATIONS = ("native", "recovered", "element", "auto")


@pytest.fixture(scope="module")
def placement(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), handle=(1, 1, 0), distance=0.004)
    return tf.coils.figure8(), pose


@pytest.fixture(scope="module")
def points():
    """Points in all three shells, a few outside the head (NaN in both results)."""
    rng = np.random.default_rng(7)
    return np.vstack([rng.normal(size=(60, 3)) * 0.04, [[0, 0, 0.2], [0.1, 0.1, 0.1]]])


def assert_same(original: FieldResult, loaded: FieldResult, points) -> None:
    for interpolation in INTERPOLATIONS:
        a = original.sample(points, interpolation=interpolation)
        b = loaded.sample(points, interpolation=interpolation)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = np.isfinite(a)
        assert np.abs(a[ok] - b[ok]).max() <= 1e-12 * np.abs(a[ok]).max(), interpolation
    assert loaded.statistics() == original.statistics()
    np.testing.assert_array_equal(loaded.E, original.E)
    np.testing.assert_array_equal(loaded.head.tets, original.head.tets)
    np.testing.assert_array_equal(loaded.head.nodes, original.head.nodes)
    np.testing.assert_array_equal(loaded.pose.matrix, original.pose.matrix)
    for name in COIL_ARRAYS:
        np.testing.assert_array_equal(getattr(loaded.coil, name), getattr(original.coil, name))
    assert loaded.coil.name == original.coil.name and loaded.coil.max_didt == original.coil.max_didt
    assert loaded.didt == original.didt and loaded.interpolation == original.interpolation
    assert loaded.provenance == original.provenance and loaded.timings == original.timings
    assert loaded.summary() == original.summary()
    assert loaded.summary_record() == original.summary_record()


@pytest.mark.parametrize("order", [1, 2])
def test_fem_result_round_trips_through_npz(coarse_sphere, placement, points, order, tmp_path):
    coil, pose = placement
    result = tf.simulate(coarse_sphere, coil, pose, didt=1.3e6, order=order, conductivities={4: 0.02})
    result.save(tmp_path / "r.npz")
    loaded = tf.load_result(tmp_path / "r.npz")
    assert isinstance(loaded, FieldResult)
    assert_same(result, loaded, points)
    np.testing.assert_array_equal(loaded.unknowns, result.unknowns)
    assert loaded.provenance["conductivity_overrides"] == {4: 0.02}
    assert_same(result, FieldResult.load(tmp_path / "r.npz"), points[:5])


def test_bem_result_round_trips_through_npz_with_its_native_field(coarse_sphere, placement, points, tmp_path):
    coil, pose = placement
    result = tf.simulate(coarse_sphere, coil, pose, didt=1e6, method="bem")
    result.save(tmp_path / "bem.npz")
    loaded = FieldResult.load(tmp_path / "bem.npz")
    assert_same(result, loaded, points)


def test_surface_result_round_trips_through_npz(coarse_sphere, placement, tmp_path):
    coil, pose = placement
    surfaces = tf.solver.bem.Interfaces.from_head(coarse_sphere)
    result = tf.solver.bem.BEMSolver(surfaces).solve(coil, pose, didt=1e6)
    result.save(tmp_path / "s.npz")
    loaded = tf.load_result(tmp_path / "s.npz")
    assert isinstance(loaded, SurfaceFieldResult)
    inside = np.array([[0.0, 0.0, 0.05], [0.01, -0.02, 0.07], [0.0, 0.03, -0.04]])
    np.testing.assert_allclose(loaded.sample(inside), result.sample(inside), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(loaded.density, result.density)
    np.testing.assert_array_equal(loaded.pose.matrix, pose.matrix)
    assert loaded.summary() == result.summary()


def test_threshold_result_round_trips_through_npz(tmp_path):
    rng = np.random.default_rng(1)
    factor = rng.uniform(1, 3, 6)
    factor[2] = np.nan
    position = rng.normal(size=(6, 3))
    position[2] = np.nan
    result = ThresholdResult(factor=factor, didt=factor * 1e6, e_site=rng.uniform(50, 90, 6),
                             e_max=rng.uniform(90, 120, 6), site=np.array([3, 1, -1, 0, 4, 2]),
                             site_position=position, group=np.array([0, 0, 0, 1, 1, 1]),
                             cell=np.array([0, 1, 2, 0, 1, 2]), didt_simulated=1e6,
                             settings={"waveform": "monophasic", "dt_s": 5e-6, "tolerance": 0.01},
                             timings={"search": 1.5})
    result.save(tmp_path / "t.npz")
    for loaded in (ThresholdResult.load(tmp_path / "t.npz"), tf.load_result(tmp_path / "t.npz")):
        for name in ("factor", "didt", "e_site", "e_max", "site", "site_position", "group", "cell"):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
        assert loaded.didt_simulated == result.didt_simulated
        assert loaded.settings == result.settings and loaded.timings == result.timings
        assert loaded.summary() == result.summary()


@pytest.mark.parametrize("direction", [None, np.array([1.0, 0.0, 0.0])])
def test_placement_result_round_trips_through_npz(coarse_sphere, direction, tmp_path):
    rng = np.random.default_rng(2)
    frames = np.stack([tf.CoilPose.on_head(coarse_sphere, center=c, handle=(0, 1, 0)).matrix
                       for c in ((0, 0, 0.095), (0.01, 0, 0.094))])
    positions = ScalpPositions(frames, rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))
    verification = {"E_solve": rng.normal(size=1), "E_adm": rng.normal(size=1), "E_direct": rng.normal(size=1),
                    "E_vector_solve": rng.normal(size=3), "rel_diff_adm": 0.001, "rel_diff_direct": 0.002,
                    "rel_diff_adm_vs_direct": 1e-5, "coil_inside_head": False, "cg_iterations": 12}
    result = PlacementResult(np.array([0.01, 0.0, 0.075]), direction, "max", positions, np.deg2rad([0.0, 90.0]),
                             rng.normal(size=(2, 2)), rng.normal(size=(2, 2, 1 if direction is not None else 3)),
                             (1, 0), tf.CoilPose(frames[1]), verification, {"rotations": 0.1, "total": 2.0},
                             {"head": "sphere", "objective": "max", "direction": None})
    result.save(tmp_path / "p.npz")
    for loaded in (PlacementResult.load(tmp_path / "p.npz"), tf.load_result(tmp_path / "p.npz")):
        for name in ("target", "angles", "values", "E"):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
        assert (loaded.direction is None) == (direction is None)
        if direction is not None:
            np.testing.assert_array_equal(loaded.direction, direction)
        for name in ("frames", "skin", "normals"):
            np.testing.assert_array_equal(getattr(loaded.positions, name), getattr(result.positions, name))
        np.testing.assert_array_equal(loaded.pose.matrix, result.pose.matrix)
        assert loaded.best == result.best and loaded.objective == result.objective
        assert loaded.timings == result.timings and loaded.provenance == result.provenance
        assert loaded.verification.keys() == verification.keys()
        for key, value in verification.items():
            np.testing.assert_array_equal(loaded.verification[key], value)
        assert loaded.summary() == result.summary()


# --- `tmsfield simulate` folders ------------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    res = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1",
                                    "--didt", "2e6", "--no-picture", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def no_solves(monkeypatch):
    """Any solve fails: a loaded result must not need one."""
    def refuse(*args, **kwargs):
        raise AssertionError("solved again")
    from tmsfield.solver.bem.solver import BEMSolver
    from tmsfield.solver.fem.solver import FEMSolver
    for cls in (FEMSolver, BEMSolver):
        monkeypatch.setattr(cls, "__init__", refuse)
        monkeypatch.setattr(cls, "solve", refuse)
    monkeypatch.setattr(tf, "simulate", refuse)


def test_simulate_folder_loads_and_feeds_thresholds(run, no_solves):
    assert (run / "result.npz").is_file()
    result = tf.load_result(run)
    record = json.loads((run / "summary.json").read_text())
    assert result.didt == (2e6,) and result.coil.name == record["provenance"]["coil"]
    np.testing.assert_allclose(result.pose.to_matsimnibs("mm"), record["provenance"]["matsimnibs_mm"], atol=1e-9)
    assert result.summary_record()["statistics"] == {int(k): v for k, v in record["statistics"].items()}
    same = tf.load_result(run / "field.vtu")               # a file of the folder names the folder
    np.testing.assert_array_equal(same.E, result.E)
    peak = result.head.centroids[np.argmax(result.magnE)]
    sites = tf.neurons.cortical_sites(result.head, depths=(0.5,), center=peak, radius=0.02, max_sites=3)
    cells = tf.neurons.place_in_cortex(tf.neurons.myelinated_axon(10e-6, 11), sites, up=(0, 0, -1))
    thresholds = tf.neurons.thresholds(result, cells, "monophasic")
    assert thresholds.didt_simulated == 2e6 and np.isfinite(thresholds.factor).any()


def test_cli_thresholds_and_view_read_the_folder(run, tmp_path, no_solves):
    res = CliRunner().invoke(main, ["thresholds", str(run), "--max-cells", "2", "--nodes", "11", "--quiet",
                                    "--out", str(tmp_path / "thr")])
    assert res.exit_code == 0, res.output
    loaded = tf.load_result(tmp_path / "thr" / "thresholds.npz")
    assert isinstance(loaded, ThresholdResult) and loaded.didt_simulated == 2e6
    ok, why = tf.viz.rendering_available() if _has_pyvista() else (False, "no pyvista")
    if not ok:
        pytest.skip(f"view needs rendering: {why}")
    res = CliRunner().invoke(main, ["view", str(run), "--screenshot", str(tmp_path / "v.png"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "v.png").stat().st_size > 1000


def _has_pyvista() -> bool:
    import importlib.util

    import tmsfield.viz  # noqa: F401
    return importlib.util.find_spec("pyvista") is not None


def test_folder_errors_name_the_file(run, tmp_path):
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    record = json.loads((broken / "summary.json").read_text())
    record["provenance"]["didt_A_per_s"] = [3e6]
    (broken / "summary.json").write_text(json.dumps(record))
    with pytest.raises(FileFormatError, match=r"summary\.json: dI/dt .*different runs"):
        tf.load_result(broken)
    (broken / "result.npz").unlink()
    with pytest.raises(FileFormatError, match=r"result\.npz: missing"):
        tf.load_result(broken)
    junk = tmp_path / "junk.npz"
    np.savez(junk, a=np.zeros(3))
    with pytest.raises(FileFormatError, match=r"junk\.npz: not a tmsfield result file"):
        tf.load_result(junk)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FileFormatError, match=r"bad\.npz: not a readable \.npz"):
        tf.load_result(tmp_path / "bad.npz")
    with pytest.raises(FileFormatError, match="holds a FieldResult"):
        ThresholdResult.load(run / "result.npz")
