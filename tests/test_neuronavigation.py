"""Neuronavigation exports (Localite XML, Brainsight .txt) read as coil poses, written back, and
used on the command line."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import tmsfield as tf
from tmsfield.cli.main import main
from tmsfield.coils.neuronavigation import read_brainsight, read_localite
from tmsfield.core.errors import FileFormatError


def _pose(center_mm, handle, axis):
    """A pose from its centre (mm), handle direction y' and axis z' (into the head)."""
    z = np.asarray(axis, float) / np.linalg.norm(axis)
    y = np.asarray(handle, float) - np.dot(handle, z) * z
    y /= np.linalg.norm(y)
    matrix = np.eye(4)
    matrix[:3, :3] = np.column_stack([np.cross(y, z), y, z])
    matrix[:3, 3] = center_mm
    return tf.CoilPose.from_matsimnibs(matrix)


POSES = {"M1": _pose([-40.0, -10.0, 95.0], [0.3, -1.0, 0.1], [0.4, 0.1, -1.0]),
         "DLPFC": _pose([-45.0, 50.0, 70.0], [0.0, 1.0, 0.5], [0.5, -0.6, -0.7])}


@pytest.mark.parametrize("space", ["RAS", "LPS"])
def test_localite_round_trip(tmp_path, space):
    path = tmp_path / "InstrumentMarker20261129120000000.xml"
    tf.coils.write_localite(path, POSES, space=space)
    markers = read_localite(path)
    assert [m.name for m in markers] == list(POSES)
    for m in markers:
        np.testing.assert_allclose(m.pose.matrix, POSES[m.name].matrix, atol=1e-12)


def test_brainsight_round_trip(tmp_path):
    path = tmp_path / "targets.txt"
    tf.coils.write_brainsight(path, POSES)
    for m in tf.coils.read_neuronavigation(path):
        assert m.kind == "Target"
        np.testing.assert_allclose(m.pose.matrix, POSES[m.name].matrix, atol=1e-9)   # 10 digits written


def test_the_axis_conventions_as_simnibs_states_them(tmp_path):
    """Hand-written files, independent of the writers. Localite: matsimnibs = F·L·C, its columns
    x' = L's z, y' = −L's y, z' = L's x (F flips x and y for LPS). Brainsight: mInJ is row J of
    column I, and x', z' are reversed."""
    localite = tmp_path / "InstrumentMarker.xml"
    localite.write_text('<?xml version="1.0"?><InstrumentMarkerList coordinateSpace="LPS"><InstrumentMarker>'
                        '<Marker description="t"><Matrix4D data00="1" data01="0" data02="0" data03="10" '
                        'data10="0" data11="1" data12="0" data13="20" data20="0" data21="0" data22="1" data23="30" '
                        'data30="0" data31="0" data32="0" data33="1"/></Marker></InstrumentMarker>'
                        '</InstrumentMarkerList>')
    m = read_localite(localite)[0].pose.to_matsimnibs()
    np.testing.assert_allclose(m[:3, 3], [-10, -20, 30])
    np.testing.assert_allclose(m[:3, :3], [[0, 0, -1], [0, 1, 0], [1, 0, 0]], atol=1e-15)
    brainsight = tmp_path / "b.txt"
    header = "\t".join(["Target Name", "Loc. X", "Loc. Y", "Loc. Z"]
                       + [f"m{i}n{j}" for i in range(3) for j in range(3)])
    # columns: x = (0, 1, 0), y = (-1, 0, 0), z = (0, 0, 1)
    row = "\t".join(["T1", "1", "2", "3", "0", "1", "0", "-1", "0", "0", "0", "0", "1"])
    brainsight.write_text(f"# Coordinate system: NIfTI:Aligned\n# {header}\n{row}\n")
    m = read_brainsight(brainsight)[0].pose.to_matsimnibs()
    np.testing.assert_allclose(m[:3, 3], [1, 2, 3])
    np.testing.assert_allclose(m[:3, :3], [[0, -1, 0], [-1, 0, 0], [0, 0, -1]], atol=1e-15)


@pytest.mark.parametrize("name, text, message", [
    ("a.xml", "<InstrumentMarkerList><InstrumentMarker>", "not well-formed XML"),
    ("a.xml", '<L coordinateSpace="ALS"><InstrumentMarker/></L>', "coordinateSpace 'ALS' is not supported"),
    ("a.xml", "<L><InstrumentMarker><Marker/></InstrumentMarker></L>", "no Matrix4D element"),
    ("a.xml", '<L><InstrumentMarker><Marker><Matrix4D data00="x"/></Marker></InstrumentMarker></L>',
     "Matrix4D needs numeric data00"),
    ("b.txt", "# Coordinate system: Brainsight\n# Target Name\tLoc. X\n", "columns"),
    ("b.txt", "T1\t1\t2\n", "data before a '# Target Name'"),
    ("c.csv", "x", "unknown neuronavigation export"),
])
def test_malformed_exports_are_named_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FileFormatError, match=message):
        tf.coils.read_neuronavigation(path)


def test_cli_simulates_a_named_localite_marker(tmp_path):
    """The pose of marker M1 (centre 4 mm above the 95 mm sphere's top) drives the run; without
    --marker a two-marker file is refused with the names."""
    top = {"M1": _pose([0.0, 0.0, 99.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]), "other": POSES["DLPFC"]}
    path = tmp_path / "InstrumentMarker.xml"
    tf.coils.write_localite(path, top)
    base = ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1", "--no-picture", "--quiet",
            "--neuronavigation", str(path)]
    refused = CliRunner().invoke(main, base + ["--out", str(tmp_path / "x")])
    assert refused.exit_code == 1 and "2 markers: name one" in refused.output and "'M1'" in refused.output
    result = CliRunner().invoke(main, base + ["--marker", "M1", "--out", str(tmp_path / "m1")])
    assert result.exit_code == 0, result.output
    where = json.loads((tmp_path / "m1" / "summary.json").read_text())["placement"]
    np.testing.assert_allclose(where["center_mm"], [0, 0, 99], atol=1e-9)
