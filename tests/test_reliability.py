"""No wrong number with exit code 0: failed kernels and solves are named errors, output folders
are replaced as a whole (a killed run leaves the old folder or the new one, never a mix), and
bad summaries read back by `thresholds`/`view` are named errors."""
import json
import os
import signal
import subprocess
import sys
import time
import types

import numpy as np
import pytest
import tomllib
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.core.errors import FileFormatError, TmsFieldError
from tmsfield.core.files import OUTPUT_MARKER, replaced_folder
from tmsfield.head_models.gmsh_msh import read_msh
from tmsfield.solver.base import checked_field
from tmsfield.solver.fem.linear import GroundedAMGSolver

COIL = tf.coils.figure8(model="dipoles")


# --- kernels and solvers -------------------------------------------------------------------
def test_fmm_error_code_is_an_error_not_a_zero_field(coarse_sphere, monkeypatch):
    import fmm3dpy

    def failing(**arguments):          # what fmm3dpy returns when its allocation fails: ier set, zeros
        n = np.shape(arguments["targets"])[-1]
        return types.SimpleNamespace(ier=4, pottarg=np.zeros((3, n)), gradtarg=None, pot=None, grad=None)

    monkeypatch.setattr(fmm3dpy, "lfmm3d", failing)
    solver = tf.FieldSolver(coarse_sphere, order=1)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    with pytest.raises(TmsFieldError, match="fmm3dpy.*error code 4.*memory"):
        solver.solve(COIL, pose, primary="fmm")


def test_zero_primary_field_is_an_error(coarse_sphere, monkeypatch):
    monkeypatch.setattr(tf.coils.coil.Coil, "dadt", lambda self, points, *a, **k: np.zeros((len(points), 3)))
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    with pytest.raises(TmsFieldError, match="zero everywhere"):
        tf.simulate(coarse_sphere, COIL, pose, order=1)
    with pytest.raises(TmsFieldError, match="zero everywhere"):
        tf.simulate(coarse_sphere, COIL, pose, method="bem")


def test_non_finite_primary_field_is_an_error(coarse_sphere, monkeypatch):
    monkeypatch.setattr(tf.coils.coil.Coil, "dadt", lambda self, points, *a, **k: np.full((len(points), 3), np.nan))
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    with pytest.raises(TmsFieldError, match="not finite"):
        tf.simulate(coarse_sphere, COIL, pose, order=1)


def test_huge_didt_is_refused_before_it_overflows(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    with pytest.raises(TmsFieldError, match="1e\\+300 A/s is implausible"):
        tf.simulate(coarse_sphere, COIL, pose, didt=1e300)


def test_nan_right_hand_side_and_residual_fail_the_solve():
    import scipy.sparse as sp
    n = 50
    matrix = sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsr()
    solver = GroundedAMGSolver(matrix, ground=0)
    rhs = np.ones(n)
    rhs[7] = np.nan
    with pytest.raises(TmsFieldError, match="not finite"):
        solver.solve(rhs)
    with pytest.raises(TmsFieldError, match="not finite"):
        solver.solve_block(np.column_stack([np.ones(n), rhs]))
    # a preconditioner that breaks down (NaN) gives a NaN residual: `residual > 10 tol` is False for
    # NaN, so this is the case the old check let through
    solver._cycle = types.SimpleNamespace(matvec=lambda r: np.full_like(r, np.nan))
    with pytest.raises(TmsFieldError, match="did not converge"):
        solver.solve(np.ones(n))


def test_non_finite_field_is_an_error():
    E = np.ones((4, 3))
    assert checked_field(E) is E
    E[2, 1] = np.inf
    with pytest.raises(TmsFieldError, match="not finite in 1 element"):
        checked_field(E)


# --- output folders ----------------------------------------------------------------------------
def test_replaced_folder_refuses_a_foreign_folder_and_a_file(tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep me")
    with pytest.raises(TmsFieldError, match="not tmsfield outputs"):
        with replaced_folder(mine, names=("summary.json",)):
            pass
    assert (mine / "thesis.tex").read_text() == "keep me"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TmsFieldError, match="is a file"):
        with replaced_folder(blocker):
            pass
    with pytest.raises(TmsFieldError, match="cannot create the output folder"):
        with replaced_folder(blocker / "out"):
            pass


def test_replaced_folder_swaps_whole_folders_and_cleans_up(tmp_path):
    out = tmp_path / "run"
    with replaced_folder(out, names=("a.txt",)) as staging:
        (staging / "a.txt").write_text("old")
    dead = tmp_path / f".run.partial-{2**22 + 12345}-zzzz"          # a killed run's staging folder
    dead.mkdir()
    (dead / "a.txt").write_text("half")
    with pytest.raises(RuntimeError):
        with replaced_folder(out, names=("a.txt",)) as staging:
            (staging / "a.txt").write_text("new")
            raise RuntimeError("killed half way")
    assert (out / "a.txt").read_text() == "old"                       # the old folder, untouched
    with replaced_folder(out, names=("a.txt",)) as staging:
        (staging / "b.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "b.txt"]   # replaced as a whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]               # no leftovers


def test_killed_writes_leave_no_part_files_behind(tmp_path):
    from tmsfield.core.files import write_text_atomic
    dead = tmp_path / f".res.part-{2**22 + 777}-abcd.json"       # a write killed before its rename
    live = tmp_path / f".res.part-{os.getpid()}-efgh.json"        # a write still running (this process)
    other = tmp_path / f".res.part-{2**22 + 777}-abcd.msh"        # another target's temporary file
    for p in (dead, live, other):
        p.write_text("half")
    write_text_atomic(tmp_path / "res.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "res.json"])


def test_a_run_killed_between_the_renames_is_restored(tmp_path):
    out = tmp_path / "run"
    aside = tmp_path / f".run.replaced-{2**22 + 54321}-zzzz"            # moved aside, then killed
    aside.mkdir()
    (aside / "summary.json").write_text("{}")
    with replaced_folder(out, names=("summary.json",)) as staging:
        assert (out / "summary.json").exists()                          # put back before the run
        (staging / "summary.json").write_text('{"new": 1}')
    assert json.loads((out / "summary.json").read_text()) == {"new": 1}
    assert not aside.exists()


def _cli(out, didt):
    return [sys.executable, "-m", "tmsfield.cli.main", "simulate", "--head", "sphere", "--edge-length-mm", "12",
            "--order", "1", "--no-picture", "--quiet", "--didt", str(didt), "--out", str(out)]


def _consistent(out) -> float:
    """dI/dt (A/s) of a complete, self-consistent simulate folder: summary.json, config.toml and
    field.msh all belong to the same run."""
    assert {p.name for p in out.iterdir()} == {"field.msh", "field.vtu", "summary.txt", "summary.json",
                                               "result.npz", "config.toml", OUTPUT_MARKER}
    record = json.loads((out / "summary.json").read_text())
    didt = 1e6 * record["didt_A_per_us"]
    assert tf.load_result(out).didt == pytest.approx((didt,), rel=1e-12)
    assert tomllib.loads((out / "config.toml").read_text())["didt"] == pytest.approx(didt)
    peak = max(s["max_V_per_m"] for s in record["statistics"].values())
    assert read_msh(out / "field.msh").element_data["magnE"].max() == pytest.approx(peak, rel=1e-12)
    return didt


def test_sigkill_leaves_the_old_folder_or_the_new_one(tmp_path):
    out = tmp_path / "run"
    subprocess.run(_cli(out, 1e6), check=True, timeout=300)
    assert _consistent(out) == 1e6
    # kill while the new run is writing its files (field.msh there, summary.json not yet):
    # writing into the folder itself, this left a new field.msh beside the old summary
    proc = subprocess.Popen(_cli(out, 2e6))
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        staging = [p for p in tmp_path.glob(".run.partial-*") if (p / "field.msh").exists()]
        if staging and not (staging[0] / "summary.json").exists():
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed while writing"
    assert _consistent(out) == 1e6
    # and at a spread of moments: each time the old folder or the new one
    for delay in (0.5, 1.5, 3.0, 4.5):
        proc = subprocess.Popen(_cli(out, 3e6))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _consistent(out) in (1e6, 3e6)
    subprocess.run(_cli(out, 4e6), check=True, timeout=300)
    assert _consistent(out) == 4e6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]       # killed runs' leftovers removed


def test_output_folder_is_checked_before_the_solve(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("solved although the output folder cannot be written")
    monkeypatch.setattr(tf, "simulate", refuse)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12",
                                       "--out", str(blocker / "out")])
    assert result.exit_code == 1 and "cannot create the output folder" in result.output
    assert "Traceback" not in result.output


# --- results read back -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1",
                                       "--no-picture", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("summary", ["[1, 2]", "{\"statistics\": {}}", "{not json",
                                     "{\"provenance\": {\"didt_A_per_s\": \"fast\"}}",
                                     "{\"provenance\": {\"didt_A_per_s\": [-1]}}"])
def test_bad_summary_is_a_named_error_for_thresholds(run_folder, tmp_path, summary):
    (run_folder / "summary.json").write_text(summary)
    with pytest.raises(FileFormatError, match="summary.json"):
        tf.load_result(run_folder)
    result = CliRunner().invoke(main, ["thresholds", str(run_folder), "--max-cells", "2", "--out", str(tmp_path / "t")])
    assert result.exit_code == 1 and "summary.json" in result.output and "Traceback" not in result.output


def test_bad_pose_in_summary_is_a_named_error_for_view(run_folder, tmp_path):
    bad_pose = {"provenance": {"didt_A_per_s": [1e6], "matsimnibs_mm": [[1, 2], [3]]}}
    (run_folder / "summary.json").write_text(json.dumps(bad_pose))
    result = CliRunner().invoke(main, ["view", str(run_folder), "--screenshot", str(tmp_path / "v.png")])
    assert result.exit_code == 1 and "matsimnibs_mm" in result.output and "Traceback" not in result.output


def test_huge_nifti_reference_is_refused_before_the_solve(tmp_path, monkeypatch):
    nibabel = pytest.importorskip("nibabel")

    def refuse(*args, **kwargs):
        raise AssertionError("solved although the NIfTI reference is refused")
    monkeypatch.setattr(tf, "simulate", refuse)
    header = nibabel.Nifti1Header()
    header.set_data_shape((30000, 30000, 30000))
    header.set_data_dtype(np.uint8)
    huge = tmp_path / "huge.nii"
    huge.write_bytes(header.binaryblock + bytes(4))            # the header only: 30000³ voxels claimed
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12",
                                       "--nifti-reference", str(huge), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "huge.nii" in result.output and "max_voxels" in result.output
    assert not (tmp_path / "o").exists()
