import json
import subprocess
import sys

from click.testing import CliRunner

from tmsfield.cli.main import main


def test_simulate_default_job_writes_outputs(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", "--edge-length-mm", "12", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"field.msh", "field.vtu", "summary.txt", "summary.json"}
    record = json.loads((out / "summary.json").read_text())
    assert record["provenance"]["solver"]["method"] == "fem"
    assert record["statistics"]["5"]["p99.9_V_per_m"] > 0
    assert "scalp" in result.output


def test_simulate_with_ccd_matrix_and_conductivity(tmp_path, shared_data):
    pose = tmp_path / "pose.txt"
    pose.write_text("1 0 0 0\n0 -1 0 0\n0 0 -1 104\n0 0 0 1\n")  # coil 9 mm above the top, mm
    coil = shared_data / "simnibs" / "Magstim_70mm_Fig8.ccd"
    result = CliRunner().invoke(main, ["simulate", "--edge-length-mm", "12", "--coil", str(coil),
                                       "--matsimnibs", str(pose), "--conductivity", "4=0.02",
                                       "--didt", "1.2e8", "--quiet", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert record["provenance"]["conductivity_overrides"] == {"4": 0.02}
    assert record["provenance"]["didt_A_per_s"] == [1.2e8]


def test_bad_coil_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "broken.ccd"
    bad.write_text("# broken\n2\n# dipoles\n0 0 0 0 0 1\n")
    result = CliRunner().invoke(main, ["simulate", "--edge-length-mm", "12", "--coil", str(bad),
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "broken.ccd" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "tmsfield.cli.main", "simulate", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--distance-mm" in proc.stdout and "Examples" in proc.stdout
