import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import data_file

from tmsfield.cli.main import main


def test_simulate_default_job_writes_outputs(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    from tmsfield.viz import rendering_available
    picture = {"field.png"} if rendering_available()[0] else set()
    assert {p.name for p in out.iterdir()} == {"field.msh", "field.vtu", "summary.txt", "summary.json",
                                               "result.npz", "config.toml", ".tmsfield-output"} | picture
    record = json.loads((out / "summary.json").read_text())
    assert record["provenance"]["solver"]["method"] == "fem"
    assert record["statistics"]["5"]["p99.9_V_per_m"] > 0
    assert record["half_value_depth_mm"] is None                     # the sphere has no brain tags
    assert "scalp" in result.output and "depth d½: n/a" in result.output


def test_simulate_with_ccd_matrix_and_conductivity(tmp_path, shared_data):
    pose = tmp_path / "pose.txt"
    pose.write_text("1 0 0 0\n0 -1 0 0\n0 0 -1 104\n0 0 0 1\n")  # coil 9 mm above the top, mm
    coil = shared_data / "simnibs" / "Magstim_70mm_Fig8.ccd"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--coil", str(coil),
                                       "--matsimnibs", str(pose), "--conductivity", "4=0.02",
                                       "--didt", "1.2e8", "--quiet", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert record["provenance"]["conductivity_overrides"] == {"4": 0.02}
    assert record["provenance"]["didt_A_per_s"] == [1.2e8]


def test_bad_coil_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "broken.ccd"
    bad.write_text("# broken\n2\n# dipoles\n0 0 0 0 0 1\n")
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--coil", str(bad),
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "broken.ccd" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "tmsfield.cli.main", "simulate", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--distance-mm" in proc.stdout and "Examples" in proc.stdout


def test_head_info_and_convert_round_trip(tmp_path, shared_data):
    mesh = data_file(shared_data, "simnibs/sphere3.msh")
    runner = CliRunner()
    info = runner.invoke(main, ["head", "info", str(mesh)])
    assert info.exit_code == 0, info.output
    assert "tetrahedra" in info.output and "cm³" in info.output
    target = tmp_path / "sphere3.vtu"
    converted = runner.invoke(main, ["head", "convert", str(mesh), str(target)])
    assert converted.exit_code == 0, converted.output
    import tmsfield as tf
    a, b = tf.load_head(mesh), tf.load_head(target)
    np.testing.assert_allclose(b.nodes, a.nodes, rtol=0, atol=1e-12)   # both in metres
    np.testing.assert_array_equal(b.tags, a.tags)


def test_coil_info_reports_inductance_and_convert_writes_ccd(tmp_path, shared_data):
    runner = CliRunner()
    wire = runner.invoke(main, ["coil", "info", "figure8", "--wire-radius-mm", "1", "--didt", "1e8"])
    assert wire.exit_code == 0, wire.output
    assert "inductance" in wire.output and "voltage" in wire.output
    zero = runner.invoke(main, ["coil", "info", "circular", "--wire-radius-mm", "0"])
    assert zero.exit_code == 1 and "radius" in zero.output and "Traceback" not in zero.output
    source = data_file(shared_data, "simnibs/Magstim_70mm_Fig8.ccd")
    dipoles = runner.invoke(main, ["coil", "info", str(source), "--wire-radius-mm", "1"])
    assert dipoles.exit_code == 1 and "no wire segments" in dipoles.output
    target = tmp_path / "copy.ccd"
    converted = runner.invoke(main, ["coil", "convert", str(source), str(target)])
    assert converted.exit_code == 0, converted.output
    import tmsfield as tf
    a, b = tf.coils.load(source), tf.coils.load(target)
    np.testing.assert_allclose(b.dipole_moments, a.dipole_moments, rtol=1e-12)
    refused = runner.invoke(main, ["coil", "convert", "figure8", str(tmp_path / "wire.ccd")])
    assert refused.exit_code == 1 and "only dipoles" in refused.output
    assert not (tmp_path / "wire.ccd").exists()


def _command_paths(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _command_paths(command, (*prefix, name))


def test_every_subcommand_has_help_with_examples():
    runner = CliRunner()
    paths = list(_command_paths(main))
    assert {("simulate",), ("thresholds",), ("head", "info"), ("coil", "info"), ("validate",)} <= set(paths)
    for path in [(), *paths]:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, (path, result.output)
        if path and not hasattr(main.get_command(None, path[0]), "commands") or len(path) > 1:
            assert "Example" in result.output, f"tmsfield {' '.join(path)} --help shows no example"


def test_validate_runs_a_study_and_writes_the_index(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["validate", "coil-inductance", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| coil-inductance |" in (out / "index.md").read_text()
    record = json.loads((out / "coil_inductance.json").read_text())
    # the loop study at the default 128 segments per turn: within 1 % of the thin-wire formula
    assert record["loop"][3]["segments"] == 128 and abs(record["loop"][3]["rel_err"]) < 0.01


def test_simulate_defaults_to_the_demo_head_over_its_motor_crown(tmp_path, monkeypatch):
    import tmsfield as tf
    monkeypatch.setenv("TMSFIELD_CACHE_DIR", str(tmp_path / "cache"))    # not the user's cache
    out = tmp_path / "demo"
    head = tmp_path / "coarse.vtu"
    generated = CliRunner().invoke(main, ["head", "generate", str(head), "--resolution", "coarse"])
    assert generated.exit_code == 0, generated.output
    assert "motor-like hotspot" in generated.output
    result = CliRunner().invoke(main, ["simulate", "--edge-length-mm", "8", "--order", "1", "--quiet",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "summary.json").read_text())
    assert record["provenance"]["head"]["name"].startswith("demo")
    assert set(record["statistics"]) == {"1", "2", "3", "4", "5"}
    # d½ of a figure-8 coil: 0.9-3.4 cm over the 50 coils of Deng et al. (Brain Stimul. 2013,
    # sphere model); measured here 13.3 mm (default resolution, P2: 13.5 mm)
    assert 9 <= record["half_value_depth_mm"] <= 34
    refused = CliRunner().invoke(main, ["simulate", "--head", str(head), "--quiet", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 1 and "--center-mm" in refused.output
    assert tf.load_head(head).n_tets > 0


def test_coil_plot_writes_a_picture(tmp_path):
    from tmsfield.viz import rendering_available
    ok, why = rendering_available()
    if not ok:
        pytest.skip(f"no off-screen rendering here: {why}")
    target = tmp_path / "figure8.png"
    result = CliRunner().invoke(main, ["coil", "plot", "figure8", "--screenshot", str(target)])
    assert result.exit_code == 0, result.output
    from PIL import Image
    pixels = np.asarray(Image.open(target).convert("L"))
    assert (pixels < 200).mean() > 0.01          # the windings, not a blank white frame


def test_config_file_repeats_a_run_and_bad_keys_are_refused(tmp_path):
    runner = CliRunner()
    first = tmp_path / "first"
    result = runner.invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1",
                                  "--center-mm", "10,0,95", "--conductivity", "4=0.02", "--no-picture",
                                  "--quiet", "--out", str(first)])
    assert result.exit_code == 0, result.output
    config = (first / "config.toml").read_text()
    assert 'center_mm = "10,0,95"' in config and 'conductivity = ["4=0.02"]' in config
    again = tmp_path / "again"
    result = runner.invoke(main, ["simulate", "--config", str(first / "config.toml"), "--out", str(again)])
    assert result.exit_code == 0, result.output
    a, b = (json.loads((d / "summary.json").read_text()) for d in (first, again))
    # the same run from the echoed file: repeat solves agree to the CG tolerance (1e-8 relative
    # residual; measured 2e-9 relative between the two runs), not bit for bit
    for tag, stats in a["statistics"].items():
        assert np.isclose(stats["p99.9_V_per_m"], b["statistics"][tag]["p99.9_V_per_m"], rtol=1e-6)
    assert a["provenance"]["matsimnibs_mm"] == b["provenance"]["matsimnibs_mm"]
    assert b["provenance"]["conductivity_overrides"] == {"4": 0.02}
    bad = tmp_path / "bad.toml"
    bad.write_text('heads = "sphere"\n')
    refused = runner.invoke(main, ["simulate", "--config", str(bad), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "unknown key" in refused.output and "head" in refused.output
    assert not (tmp_path / "x").exists()


def test_nifti_reference_gets_magnitude_on_its_voxel_grid(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    # a 4 mm grid, oblique (rotated 30° about z), covering the 95 mm sphere and beyond
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    affine = np.eye(4)
    affine[:3, :3] = 4.0 * np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    affine[:3, 3] = -affine[:3, :3] @ np.full(3, 26.0)                  # voxel (26, 26, 26) at the origin
    reference = tmp_path / "t1.nii.gz"
    nibabel.save(nibabel.Nifti1Image(np.zeros((53, 53, 53), np.int16), affine), reference)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1",
                                       "--nifti-reference", str(reference), "--no-picture", "--quiet",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    image = nibabel.load(out / "magnE.nii.gz")
    np.testing.assert_allclose(image.affine, affine)
    data = np.asarray(image.dataobj)
    assert data.shape == (53, 53, 53) and data.dtype == np.float32
    # voxel centres: value = |E| sampled there (the same interpolation), 0 outside the head;
    # rtol 1e-5 covers the float32 file (6e-8) and the repeat solve (agrees to ~2e-9)
    import tmsfield as tf
    sphere = tf.head_models.concentric_spheres(edge_length=0.012)
    pose = tf.CoilPose.on_head(sphere, center=(0, 0, 0.095), handle=(0, 1, 0), distance=0.004)
    res = tf.simulate(sphere, tf.coils.figure8(), pose, order=1)
    ijk = np.array([[26, 26, 26], [26, 26, 48], [26, 26, 52], [0, 0, 0]])
    world = (ijk @ affine[:3, :3].T + affine[:3, 3]) * 1e-3
    expected = np.nan_to_num(np.linalg.norm(res.sample(world), axis=1))
    np.testing.assert_allclose(data[tuple(ijk.T)], expected, rtol=1e-5, atol=1e-6)
    assert expected[0] > 0 and expected[1] > expected[0] and expected[2] == expected[3] == 0.0


def test_simulate_shows_each_stage_while_it_runs_unless_quiet(tmp_path, monkeypatch):
    from tmsfield.core import progress
    monkeypatch.setattr(progress, "STATUS_DELAY", 0.0)      # show every stage, not only those over 1 s
    args = ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1", "--no-picture"]
    loud = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "loud")])
    assert loud.exit_code == 0, loud.output
    for stage in ("head", "assembly", "solve", "writing outputs"):   # each ≥ 0.05 s here
        assert f"\r{stage}: " in loud.stderr, stage
    assert "writing outputs" in loud.stdout.splitlines()[-2]           # the summary's time per stage
    quiet = CliRunner().invoke(main, [*args, "--quiet", "--out", str(tmp_path / "quiet")])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
