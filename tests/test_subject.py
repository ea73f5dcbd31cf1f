"""SimNIBS subject folders (m2m_<id>): head mesh and EEG caps, and coils placed at EEG positions."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.core.errors import FileFormatError, TmsFieldError
from tmsfield.head_models.gmsh_msh import write_msh

#: positions (mm) on the 95 mm scalp of the test sphere: C3 on the left, CP3 behind it, Cz on top
CAP = {"Cz": (0.0, 0.0, 95.0), "C3": (-95 * np.sin(0.5), 0.0, 95 * np.cos(0.5)),
       "CP3": (-95 * np.sin(0.5) * np.cos(0.3), -95 * np.sin(0.3), 95 * np.cos(0.5) * np.cos(0.3))}


@pytest.fixture(scope="module")
def m2m(tmp_path_factory, coarse_sphere):
    """A subject folder as charm lays it out: m2m_test/test.msh (mm) and a 10-10 cap CSV, with a
    fiducial row, an electrode row carrying its y-axis point, a coil row (skipped) and a comment."""
    folder = tmp_path_factory.mktemp("subjects") / "m2m_test"
    (folder / "eeg_positions").mkdir(parents=True)
    write_msh(folder / "test.msh", 1e3 * coarse_sphere.nodes, tetrahedra=coarse_sphere.tets,
              tetrahedron_tags=coarse_sphere.tags)
    rows = ["Fiducial,0.0,95.0,0.0,Nz", "# a comment", "CoilPos,1,2,3,4,5,6,7,8,9,10,11,12,coil"]
    rows += [f"Electrode,{x:.6f},{y:.6f},{z:.6f},{name}" for name, (x, y, z) in CAP.items() if name != "CP3"]
    x, y, z = CAP["CP3"]
    rows.append(f"Electrode,{x:.6f},{y:.6f},{z:.6f},{x:.6f},{y + 1:.6f},{z:.6f},CP3")
    (folder / "eeg_positions" / "EEG10-10_UI_Jurak_2007.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_subject_reads_mesh_and_cap(m2m, coarse_sphere):
    subject = tf.load_subject(m2m)
    assert subject.name == "test" and subject.mesh_path.name == "test.msh"
    np.testing.assert_allclose(subject.head.nodes, coarse_sphere.nodes, rtol=0, atol=1e-15)
    assert sorted(subject.positions()) == ["C3", "CP3", "Cz", "Nz"]
    for name, mm in CAP.items():
        np.testing.assert_allclose(subject.position(name), 1e-3 * np.array(mm), atol=1e-9)   # 6 decimals of mm


def test_unknown_position_suggests_close_names(m2m):
    with pytest.raises(TmsFieldError, match="no position 'C4'.*did you mean .*C3"):
        tf.load_subject(m2m).position("C4")


def test_malformed_cap_rows_name_file_and_line(tmp_path):
    bad = tmp_path / "cap.csv"
    bad.write_text("Electrode,1,2,3,C3\nElectrode,1,x,3,C4\n")
    with pytest.raises(FileFormatError, match=r"cap\.csv, line 2: expected Type,x,y,z,Name"):
        tf.head_models.read_positions(bad)
    bad.write_text("Electrode,1,2,3,C3\nElectrode,4,5,6,C3\n")
    with pytest.raises(FileFormatError, match="line 2: position 'C3' is given twice"):
        tf.head_models.read_positions(bad)


def test_missing_folder_or_mesh_is_a_named_error(tmp_path):
    with pytest.raises(FileFormatError, match="no such subject folder"):
        tf.load_subject(tmp_path / "m2m_nobody")
    (tmp_path / "m2m_empty").mkdir()
    with pytest.raises(FileFormatError, match="expected the head mesh empty.msh"):
        tf.load_subject(tmp_path / "m2m_empty")


def test_cli_places_the_coil_at_an_eeg_position(m2m, tmp_path):
    out = tmp_path / "c3"
    result = CliRunner().invoke(main, ["simulate", "--subject", str(m2m), "--position", "C3", "--handle-toward", "CP3",
                                       "--order", "1", "--no-picture", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    where = json.loads((out / "summary.json").read_text())["placement"]
    c3 = np.array(CAP["C3"])
    # the coil sits 4 mm out along the scalp normal above C3 (the polyhedral scalp lies within
    # ~0.6 mm of the 95 mm sphere at 12 mm edges), its axis pointing into the head
    assert np.linalg.norm(np.array(where["center_mm"]) - c3 * 99 / 95) < 1.5
    assert where["scalp_distance_mm"] == pytest.approx(4.0, abs=1e-6)
    # the handle points from C3 towards CP3 (backwards, -y), tangential to the scalp
    toward = np.array(CAP["CP3"]) - c3
    toward -= toward @ c3 / (c3 @ c3) * c3
    assert np.dot(where["handle"], toward / np.linalg.norm(toward)) > 0.99


@pytest.mark.parametrize("args, message", [
    (["--position", "C3"], "name EEG positions of a subject"),
    (["--subject", "SUBJECT", "--head", "sphere"], "either with --subject or with --head"),
    (["--subject", "SUBJECT", "--position", "C3", "--center-mm", "0,0,95"], "either with --position or"),
    (["--subject", "SUBJECT", "--position", "C3", "--handle-toward", "CP3", "--handle", "0,1,0"],
     "either with --handle"),
])
def test_cli_refuses_conflicting_positions(m2m, tmp_path, args, message):
    args = [str(m2m) if a == "SUBJECT" else a for a in args]
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", *args,
                                       "--quiet", "--out", str(tmp_path / "o")] if "--subject" not in args else
                                ["simulate", *args, "--quiet", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "o").exists()
