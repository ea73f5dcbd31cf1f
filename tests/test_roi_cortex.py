"""Regions of interest and the grey-matter mid-surface output (GIfTI)."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.core.errors import TmsFieldError
from tmsfield.solver.results.cortex import CORTEX_ARRAYS, save_cortex
from tmsfield.solver.results.roi import SphereROI


@pytest.fixture(scope="module")
def sphere_result(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0.0, 0.0, 0.095))
    return tf.simulate(coarse_sphere, tf.coils.figure8(model="dipoles"), pose, order=1)


@pytest.fixture(scope="module")
def demo_result():
    head = tf.head_models.demo_head("coarse")
    marks = tf.head_models.demo_head_landmarks()
    pose = tf.CoilPose.on_head(head, center=marks.motor_hotspot, handle=marks.handle)
    return tf.simulate(head, tf.coils.figure8(), pose, order=1), marks


def test_roi_statistics_are_those_of_the_elements_within_the_sphere(sphere_result):
    head = sphere_result.head
    roi = SphereROI(center=(0.0, 0.0, 0.07), radius=0.012, tags=(3,), name="below the coil")
    stats = roi.statistics(sphere_result)
    inside = (np.linalg.norm(head.centroids - [0.0, 0.0, 0.07], axis=1) <= 0.012) & (head.tags == 3)
    mag, vol = np.linalg.norm(sphere_result.E[inside], axis=1), head.volumes[inside]
    assert stats["elements"] == inside.sum() and stats["volume_cm3"] == pytest.approx(1e6 * vol.sum())
    assert stats["mean_V_per_m"] == pytest.approx((mag * vol).sum() / vol.sum())
    assert stats["max_V_per_m"] == mag.max() and stats["median_V_per_m"] <= stats["p99_V_per_m"] <= mag.max()
    records = sphere_result.roi_statistics([roi])
    record = sphere_result.summary_record(records)
    assert record["rois"][0]["name"] == "below the coil"
    assert "ROI below the coil" in sphere_result.summary(records)
    assert all("volume_above_75pct_peak_cm3" in s for s in record["statistics"].values())


def test_bad_regions_are_named_errors(sphere_result):
    with pytest.raises(TmsFieldError, match="mm given as metres"):
        SphereROI(center=(0, 0, 0.07), radius=10.0)
    with pytest.raises(TmsFieldError, match="no elements of tags"):
        SphereROI(center=(0, 0, 0.07), radius=0.01).elements(sphere_result.head)      # no brain in the sphere
    with pytest.raises(TmsFieldError, match="the nearest is .* mm from its centre"):
        SphereROI(center=(0, 0, 0.3), radius=0.01, tags=(3,)).elements(sphere_result.head)


def test_cortex_gifti_loads_with_nibabel_and_equals_sample(demo_result, tmp_path):
    nibabel = pytest.importorskip("nibabel")
    result, _ = demo_result
    assert save_cortex(result, tmp_path)[:2] == ["cortex.surf.gii", "cortex_E.func.gii"]
    surface = nibabel.load(tmp_path / "cortex.surf.gii")
    vertices_mm, triangles = surface.darrays[0].data, surface.darrays[1].data
    mid, tris = result.head.grey_matter_midsurface()
    np.testing.assert_allclose(vertices_mm, 1e3 * mid, rtol=1e-6)            # float32 in mm
    assert np.array_equal(triangles, tris)
    arrays = nibabel.load(tmp_path / "cortex_E.func.gii").darrays
    assert [a.meta["Name"] for a in arrays] == list(CORTEX_ARRAYS)
    magnE, normal, tangential = (a.data.astype(float) for a in arrays)
    expected = np.linalg.norm(result.sample(mid), axis=1)
    np.testing.assert_allclose(magnE, expected, rtol=1e-6)                   # float32
    np.testing.assert_allclose(normal**2 + tangential**2, magnE**2, rtol=1e-5)
    assert (normal > 0).any() and (normal < 0).any()                         # both directions occur on folds
    for name, values in zip(CORTEX_ARRAYS, (magnE, normal, tangential)):   # the FreeSurfer overlays
        np.testing.assert_array_equal(nibabel.freesurfer.io.read_morph_data(tmp_path / f"cortex.{name}"), values)


def test_cli_writes_roi_statistics_and_cortex_files(demo_result, tmp_path):
    pytest.importorskip("nibabel")
    _, marks = demo_result
    below = 1e3 * marks.motor_crown
    out = tmp_path / "m1"
    result = CliRunner().invoke(main, ["simulate", "--head", "demo", "--edge-length-mm", "5", "--order", "1",
                                       "--roi", ",".join(f"{v:.3f}" for v in below) + ",10", "--cortex",
                                       "--no-picture", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rois"][0]["radius_mm"] == 10.0 and summary["rois"][0]["elements"] > 0
    assert (out / "cortex.surf.gii").is_file() and (out / "cortex_E.func.gii").is_file()
    refused = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--roi", "0,0,70,10",
                                        "--quiet", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 1 and "no elements of tags" in refused.output and not (tmp_path / "x").exists()


def test_scalp_cortex_distance_under_the_coil(demo_result, sphere_result):
    """Over the demo head's gyral crowns the pial surface lies 5.5 (scalp) + 6.5 (skull) + 2.5
    (CSF) = 14.5 mm in from the scalp along the semi-axes (head_models/demo.py layer table), a
    little less along the normal of the ellipsoidal shells; the sphere has no grey matter."""
    result, _ = demo_result
    where = result.placement()
    assert 12.0 < where["scalp_cortex_distance_mm"] < 15.0
    assert "scalp-cortex distance there" in result.summary()
    assert sphere_result.placement()["scalp_cortex_distance_mm"] is None


def _mask(path, lo_mm, hi_mm, label=2):
    """A 1 mm NIfTI image holding ``label`` in the box lo..hi (mm) and 0 elsewhere."""
    import nibabel
    lo, hi = np.floor(lo_mm) - 2, np.ceil(hi_mm) + 2
    shape = (hi - lo).astype(int)
    index = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1) + lo
    data = np.where(np.all((index >= lo_mm) & (index <= hi_mm), axis=-1), label, 0).astype(np.int16)
    affine = np.eye(4)
    affine[:3, 3] = lo
    nibabel.save(nibabel.Nifti1Image(data, affine), path)


def test_mask_roi_selects_the_labelled_voxels(demo_result, tmp_path):
    pytest.importorskip("nibabel")
    from tmsfield.solver.results.roi import MaskROI
    result, marks = demo_result
    crown = 1e3 * marks.motor_crown
    _mask(tmp_path / "atlas.nii.gz", crown - 8, crown + 8, label=7)
    roi = MaskROI(tmp_path / "atlas.nii.gz", label=7)
    idx = roi.elements(result.head)
    centroids = 1e3 * result.head.centroids[idx]
    assert np.all(np.abs(centroids - crown) <= 8.5)                    # inside the box (voxel rounding)
    inside = np.all(np.abs(1e3 * result.head.centroids - crown) <= 7.5, axis=1) & np.isin(result.tags, (1, 2))
    assert set(np.flatnonzero(inside)) <= set(idx)                      # every brain element well inside
    assert roi.statistics(result)["elements"] == len(idx)
    with pytest.raises(TmsFieldError, match="no voxel has label 3"):
        MaskROI(tmp_path / "atlas.nii.gz", label=3).elements(result.head)
    _mask(tmp_path / "far.nii.gz", crown + 500, crown + 510)
    with pytest.raises(TmsFieldError, match="does not overlap the head"):
        MaskROI(tmp_path / "far.nii.gz").elements(result.head)
    (tmp_path / "bad.nii.gz").write_bytes(b"nope")
    from tmsfield.core.errors import FileFormatError
    with pytest.raises(FileFormatError, match="not a readable NIfTI mask"):
        MaskROI(tmp_path / "bad.nii.gz").elements(result.head)


def test_cli_roi_by_eeg_name_and_mask(demo_result, tmp_path):
    pytest.importorskip("nibabel")
    _, marks = demo_result
    crown = 1e3 * marks.motor_crown
    _mask(tmp_path / "m.nii.gz", crown - 8, crown + 8)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["simulate", "--head", "demo", "--edge-length-mm", "5", "--order", "1",
                                       "--position", "C3", "--roi", "C3:15", "--roi",
                                       f"mask:{tmp_path / 'm.nii.gz'}:2", "--roi",
                                       "cortex:" + ",".join(f"{v:.3f}" for v in crown) + ",10",
                                       "--no-picture", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rois = json.loads((out / "summary.json").read_text())["rois"]
    assert [r["name"] for r in rois][:2] == ["C3 (15 mm)", "m.nii.gz label 2"]
    assert rois[2]["name"].startswith("cortex patch 10 mm") and rois[2]["vertices"] > 0
    assert all(r["elements"] > 0 for r in rois[:2])


def test_cortex_patch_statistics_are_area_weighted_on_the_mid_surface(demo_result):
    from tmsfield.head_models.geometry import triangle_normals
    from tmsfield.solver.results import CortexROI
    result, marks = demo_result
    roi = CortexROI(center=tuple(marks.motor_crown), radius=0.01, name="crown")
    stats = roi.statistics(result)
    vertices, triangles, fields = result.cortex
    assert result.cortex is result.cortex                                    # computed once per result
    inside = np.linalg.norm(vertices - marks.motor_crown, axis=1) <= 0.01
    _, areas = triangle_normals(vertices, triangles)
    weight = np.zeros(len(vertices))
    for corner in range(3):
        np.add.at(weight, triangles[:, corner], areas / 3)
    assert stats["vertices"] == inside.sum() and stats["area_cm2"] == pytest.approx(1e4 * weight[inside].sum())
    assert stats["mean_V_per_m"] == pytest.approx(np.average(fields["magnE"][inside], weights=weight[inside]))
    assert stats["mean_abs_E_normal_V_per_m"] <= stats["mean_V_per_m"]
    assert "mean E·n" in result.summary(result.roi_statistics([roi]))
    with pytest.raises(TmsFieldError, match="holds no vertex of the grey-matter mid-surface"):
        CortexROI(center=(0.0, 0.0, 0.2), radius=0.005).elements(result.head)


@pytest.mark.parametrize("args, message", [
    (["--roi", "0,0,70"], "--roi must have 4 finite components"),
    (["--roi", "mask:atlas.nii.gz:left"], "needs an integer label"),
    (["--roi", "C3:wide"], "--roi C3: must be a number like '10', got 'wide'"),
    (["--roi", "cortex:0,0,70"], "must have 4 finite components"),
    (["--roi", "mni:-37,-21,58,10"], "needs a subject folder"),
    (["--cortex"], "--cortex needs grey and white matter"),
])
def test_cli_bad_regions_and_cortex_requests_are_named_errors(tmp_path, args, message):
    """Each refused before the solve, and no output folder appears."""
    pytest.importorskip("nibabel")
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", *args, "--quiet",
                                       "--no-picture", "--out", str(out)])
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()
