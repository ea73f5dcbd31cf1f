"""Each common mistake is refused with the package's error, naming the value and the fix, before
any solve (and the summary says where the coil went and where the peak is)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.core.errors import MeshError, PlacementError, TmsFieldError

COIL = tf.coils.figure8(model="dipoles")


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if any FEM solver is set up: the mistake must be caught before."""
    from tmsfield.solver.fem.solver import FEMSolver  # imported here: the package loads it lazily

    def refuse(*args, **kwargs):
        raise AssertionError("a solver was set up before the mistake was reported")
    monkeypatch.setattr(FEMSolver, "__init__", refuse)


def _pose(head):
    return tf.CoilPose.on_head(head, center=(0, 0, 0.095))


def test_centre_in_mm_to_a_metres_argument(coarse_sphere):
    with pytest.raises(PlacementError, match=r"949\d\d\.\d mm from the scalp.*mm to a metres"):
        tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 95))


def test_centre_far_from_the_scalp_in_metres(coarse_sphere):
    # 0.095 mm given as if metres: the point is near the centre, 95 mm below the scalp
    with pytest.raises(PlacementError, match=r"9\d\.\d mm from the scalp"):
        tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.000095))


def test_coil_centre_far_from_the_scalp_in_simulate(coarse_sphere, no_solve):
    far = tf.CoilPose.from_axes([0, 0, 0.2], [0, 0, -1], [0, 1, 0])
    with pytest.raises(PlacementError, match=r"105\.\d mm from the scalp.*check_placement=False"):
        tf.simulate(coarse_sphere, COIL, far)


def test_distance_in_mm_to_a_metres_argument(coarse_sphere):
    with pytest.raises(PlacementError, match="coil-scalp distance must be 0-30 mm, got 4 m.*mm to a metres"):
        tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), distance=4)


def test_handle_within_5_degrees_of_the_axis():
    tilt = np.radians(4.0)
    with pytest.raises(PlacementError, match=r"parallel to the coil axis: 4(\.0)?° from"):
        tf.CoilPose.from_axes([0, 0, 0.1], [0, 0, -1], [np.sin(tilt), 0, np.cos(tilt)])
    tilt = np.radians(6.0)
    pose = tf.CoilPose.from_axes([0, 0, 0.1], [0, 0, -1], [np.sin(tilt), 0, np.cos(tilt)])
    assert np.allclose(pose.handle, [1, 0, 0])


def test_conductivity_for_a_tag_the_mesh_lacks(coarse_sphere):
    with pytest.raises(MeshError, match=r"tag\(s\) \[12\], which this head does not have \(its tags: \[3, 4, 5\]\)"):
        tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), conductivities={12: 0.3})


@pytest.mark.parametrize("didt", [0.0, -1e6, np.nan, np.inf])
def test_didt_not_positive_or_not_finite(coarse_sphere, didt, no_solve):
    with pytest.raises(TmsFieldError, match="didt must be"):
        tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), didt=didt)


def test_didt_per_stimulator_count_and_all_zero(coarse_sphere, no_solve):
    with pytest.raises(TmsFieldError, match="has 1 stimulator"):
        tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), didt=[1e6, 1e6])
    with pytest.raises(TypeError, match="didt must be a number"):
        tf.simulate(coarse_sphere, COIL, _pose(coarse_sphere), didt="fast")


def test_file_name_where_a_coil_is_expected(coarse_sphere, no_solve):
    with pytest.raises(TypeError, match=r"coil must be a Coil.*tf\.coils\.load\('coil\.ccd'\)"):
        tf.simulate(coarse_sphere, "coil.ccd", _pose(coarse_sphere))


def test_file_name_where_a_head_is_expected(no_solve):
    with pytest.raises(TypeError, match=r"head must be a HeadMesh.*tf\.load_head\('ernie\.msh'\)"):
        tf.simulate("ernie.msh", COIL, np.eye(4))


def test_pose_none_or_wrong_shape(coarse_sphere, no_solve):
    with pytest.raises(TypeError, match="pose must be a CoilPose.*got None"):
        tf.simulate(coarse_sphere, COIL, None)
    with pytest.raises(TypeError, match=r"pose must be a CoilPose.*shape \(3, 3\)"):
        tf.simulate(coarse_sphere, COIL, np.eye(3))


def test_matrix_pose_in_mm_is_refused(coarse_sphere, no_solve):
    pose = _pose(coarse_sphere)
    in_mm = pose.to_matsimnibs("mm")
    with pytest.raises(PlacementError, match="mm to a metres"):
        tf.simulate(coarse_sphere, COIL, in_mm)


def test_matrix_pose_in_metres_gives_the_same_field(coarse_sphere):
    pose = _pose(coarse_sphere)
    a = tf.simulate(coarse_sphere, COIL, pose, order=1)
    b = tf.simulate(coarse_sphere, COIL, pose.matrix, order=1)
    assert np.allclose(a.E, b.E, rtol=0, atol=1e-9 * np.abs(a.E).max())   # same solve up to round-off


def test_missing_optional_dependency_is_reported_before_the_solve(tmp_path, monkeypatch, no_solve):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nibabel" else real(name, *a))
    reference = tmp_path / "t1.nii.gz"
    reference.write_bytes(b"not read")
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12",
                                       "--nifti-reference", str(reference), "--out", str(out)])
    assert result.exit_code == 1
    assert "needs nibabel" in result.output and "tmsfield[nifti]" in result.output
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--center-mm", "0,0,0.095"], "mm from the scalp"),
    (["--handle", "0,0,1"], "parallel to the coil axis"),
    (["--conductivity", "12=0.3"], "tag(s) [12], which this head does not have"),
    (["--didt", "0"], "didt must be > 0"),
])
def test_cli_refuses_each_mistake(tmp_path, args, message):
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--quiet",
                                       "--no-picture", "--out", str(out), *args])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_summary_says_where_the_coil_went_and_where_the_peak_is(coarse_sphere, tmp_path):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), distance=0.004)
    res = tf.simulate(coarse_sphere, COIL, pose, didt=1.2e8, order=1)
    record = res.summary_record()
    assert record["didt_A_per_us"] == pytest.approx(120.0)
    where = record["placement"]
    assert where["center_mm"] == pytest.approx(1e3 * pose.center, abs=1e-3)
    # the coarse sphere's scalp is a 12 mm polyhedron inscribed in the 95 mm sphere: its top
    # lies within the chord sagitta h²/(8R) ≈ 0.2 mm of 95 mm, and the coil 4 mm above it
    assert where["scalp_distance_mm"] == pytest.approx(4.0, abs=1e-6)
    assert np.linalg.norm(where["nearest_scalp_point_mm"]) == pytest.approx(95.0, abs=0.2)
    peak = record["peak"]
    assert peak["magnE_V_per_m"] == pytest.approx(res.magnE.max())
    assert peak["tissue"] == "scalp"                       # no brain: the whole head's maximum
    assert np.linalg.norm(np.array(peak["position_mm"]) - 1e3 * pose.center) < 40  # under the coil
    text = res.summary()
    assert "dI/dt 120 A/µs" in text and "4.00 mm from the scalp" in text and "peak |E|" in text
    json.dumps(record)                                      # JSON-ready
