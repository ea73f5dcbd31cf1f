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
    (["--mni", "-37,-21,58"], "needs a subject folder"),
    (["--subject", "SUBJECT", "--head", "sphere"], "either with --subject or with --head"),
    (["--subject", "SUBJECT", "--position", "C3", "--center-mm", "0,0,95"], "one of --position, --mni and"),
    (["--subject", "SUBJECT", "--position", "C3", "--mni", "0,0,60"], "one of --position, --mni and"),
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


#: the known MNI → subject map of the test folder: subject_mm = MNI_AFFINE @ (mni_mm, 1)
_angle = np.deg2rad(5.0)
MNI_AFFINE = np.array([[0.95 * np.cos(_angle), -0.95 * np.sin(_angle), 0.0, 2.0],
                       [0.95 * np.sin(_angle), 0.95 * np.cos(_angle), 0.0, -3.0],
                       [0.0, 0.0, 1.05, 10.0], [0.0, 0.0, 0.0, 1.0]])


def _field(affine_map, lo, hi, step):
    """A deformation field (X, Y, Z, 1, 3) as SimNIBS writes it, on the grid lo..hi (mm) with
    ``step`` mm voxels, holding ``affine_map`` applied to each voxel's coordinates."""
    import nibabel
    axes = [np.arange(a, b + step / 2, step) for a, b in zip(lo, hi)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    values = grid @ affine_map[:3, :3].T + affine_map[:3, 3]
    voxel_to_mm = np.diag([step, step, step, 1.0])
    voxel_to_mm[:3, 3] = lo
    return nibabel.Nifti1Image(values[:, :, :, None, :].astype(np.float32), voxel_to_mm)


@pytest.fixture(scope="module")
def mni_folder(m2m):
    """The test subject with toMNI/: SimNIBS 4 deformation fields of MNI_AFFINE (both directions)
    and the SimNIBS 3 12-DOF text file of the same map."""
    import nibabel
    (m2m / "toMNI").mkdir(exist_ok=True)
    nibabel.save(_field(MNI_AFFINE, (-100, -130, -80), (100, 100, 110), 4.0), m2m / "toMNI" / "MNI2Conform_nonl.nii.gz")
    nibabel.save(_field(np.linalg.inv(MNI_AFFINE), (-110, -130, -110), (110, 120, 130), 4.0),
                 m2m / "toMNI" / "Conform2MNI_nonl.nii.gz")
    np.savetxt(m2m / "toMNI" / "MNI2conform_12DOF.txt", MNI_AFFINE)
    return m2m


def test_mni_coordinates_map_through_the_deformation_field_and_the_affine(mni_folder):
    """The field of an affine map interpolates it exactly (trilinear interpolation reproduces
    affine functions; float32 storage: ~1e-5 mm), and the 12-DOF file is the same map."""
    subject = tf.load_subject(mni_folder)
    mni = np.array([[-37.0, -21.0, 58.0], [0.0, 0.0, 0.0], [41.3, -60.2, 22.7]])
    expected = (mni @ MNI_AFFINE[:3, :3].T + MNI_AFFINE[:3, 3]) * 1e-3
    nonl = subject.mni_transform()
    assert nonl.kind == "nonl"
    np.testing.assert_allclose(nonl.to_subject(mni), expected, atol=1e-7)
    np.testing.assert_allclose(subject.mni_transform("12dof").to_subject(mni), expected, atol=1e-12)
    np.testing.assert_allclose(nonl.to_mni(expected), mni, atol=1e-4)
    np.testing.assert_allclose(subject.mni_transform("12dof").to_mni(expected), mni, atol=1e-9)


def test_mni_points_outside_the_field_or_missing_files_are_named_errors(mni_folder, tmp_path):
    transform = tf.load_subject(mni_folder).mni_transform()
    with pytest.raises(TmsFieldError, match=r"outside the field of view of MNI2Conform_nonl.nii.gz"):
        transform.to_subject([0.0, 0.0, 300.0])
    plain = tmp_path / "m2m_plain"
    plain.mkdir()
    with pytest.raises(FileFormatError, match="no toMNI/MNI2conform_12DOF.txt"):
        tf.head_models.mni_transform(plain).to_subject([0, 0, 0])
    broken = tmp_path / "m2m_broken" / "toMNI"
    broken.mkdir(parents=True)
    (broken / "MNI2Conform_nonl.nii.gz").write_bytes(b"not a nifti")
    with pytest.raises(FileFormatError, match="not a readable NIfTI deformation field"):
        tf.head_models.mni_transform(broken.parent).to_subject([0, 0, 0])


def test_cli_places_the_coil_over_an_mni_target(mni_folder, tmp_path):
    """--mni: the coil centre lands 4 mm out along the scalp normal above the subject point the
    MNI target maps to (within 1.5 mm: the polyhedral scalp of the 12 mm sphere)."""
    out = tmp_path / "m1"
    result = CliRunner().invoke(main, ["simulate", "--subject", str(mni_folder), "--mni", "-37,-21,58", "--order", "1",
                                       "--no-picture", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = MNI_AFFINE[:3, :3] @ [-37.0, -21.0, 58.0] + MNI_AFFINE[:3, 3]
    where = json.loads((out / "summary.json").read_text())["placement"]
    assert np.linalg.norm(np.array(where["center_mm"]) - target / np.linalg.norm(target) * 99) < 1.5


def test_flag_conflicts_are_reported_before_the_head_is_read(tmp_path):
    """The head file does not exist: the conflict, not the missing file, is what the user hears."""
    missing = str(tmp_path / "missing.msh")
    for args, message in ((["--mni", "0,0,60"], "--mni needs a subject folder"),
                          (["--center-mm", "0,0,95", "--position", "C3"], "one of --position, --mni and"),
                          (["--handle", "0,1,0", "--handle-toward", "CP3", "--center-mm", "0,0,95"],
                           "either with --handle or with --handle-toward")):
        result = CliRunner().invoke(main, ["simulate", "--head", missing, *args, "--quiet", "--out",
                                           str(tmp_path / "o")])
        assert result.exit_code == 1 and message in result.output, result.output


def test_mni_transformation_files_are_read_once(mni_folder, monkeypatch):
    from tmsfield.head_models import mni
    subject = tf.load_subject(mni_folder)
    reads = []
    original = mni.DeformationField.read
    monkeypatch.setattr(mni.DeformationField, "read", classmethod(lambda cls, p: reads.append(p) or original(p)))
    for _ in range(3):
        subject.mni_transform().to_subject([0.0, 0.0, 0.0])
    assert len(reads) == 1 and subject.mni_transform() is subject.mni_transform()
