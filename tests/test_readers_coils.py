"""Hostile input to the coil (.ccd, .tcd, .nii.gz), SWC, TOML config and pose-file readers.

Each finding of the reliability review is rebuilt here from a file written to tmp_path and must
now give a TmsFieldError subclass that names the file, the place (line or JSON path) and what is
wrong. Expectations come from the file formats: .ccd positions are in m (SimNIBS), .tcd files
follow SimNIBS' coil_model.schema.json, SWC coordinates and radii are in µm, a pose file is a
4×4 matsimnibs matrix in mm. The fuzz tests mutate valid files (byte flips, truncation, junk,
JSON/TOML type swaps) and accept only a result or a TmsFieldError; set TMSFIELD_FUZZ_EXAMPLES
for longer runs (validation/fuzz_coils.py is the full campaign).
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import random
import re
import tracemalloc
import zlib

import click
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import data_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tmsfield as tf
from tmsfield.cli.config import load_config
from tmsfield.cli.main import main, simulate
from tmsfield.cli.options import load_coil
from tmsfield.core.errors import CoilError, FileFormatError, PlacementError, TmsFieldError
from tmsfield.validation import fuzz_coils as fz


def _tcd(tmp_path, edit=None, name="coil_model.tcd"):
    spec = fz.tcd_seed_spec()
    if edit:
        edit(spec)
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return path


def _pickled_os_system() -> str:
    """base64(zlib(a pickle that would call os.system)): the grid reader must refuse it."""
    return base64.b64encode(zlib.compress(b"cos\nsystem\n(S'true'\ntR.")).decode()


def _b64(values) -> str:
    return base64.b64encode(zlib.compress(np.asarray(values, dtype="<f8").tobytes())).decode()


# --- .tcd ------------------------------------------------------------------------------------

def test_tcd_seed_file_is_valid(tmp_path):
    coil = tf.coils.load(_tcd(tmp_path))
    assert len(coil.segment_starts) == 4 and len(coil.dipole_positions) == 2
    assert coil.max_didt == (1.2e8, 1.0e8) and coil.n_stimulators == 2


@pytest.mark.parametrize("edit, where, words", [
    (lambda s: s["stimulatorList"][0].update(maxdIdt="abc"), r"\$\.stimulatorList\[0\]\.maxdIdt",
     'expected a number, got a string "abc"'),
    (lambda s: s.update(coilElementList=["abc"]), r"\$\.coilElementList\[0\]", "expected an object, got a string"),
    (lambda s: s.update(coilElementList={"a": 1}), r"\$\.coilElementList", "expected an array, got an object"),
    (lambda s: s.update(stimulatorList=[None]), r"\$\.stimulatorList\[0\]", "expected an object, got null"),
    (lambda s: s["coilElementList"][0].update(type="2"), r"\$\.coilElementList\[0\]\.type",
     'expected an integer, got a string "2"'),
    (lambda s: s["coilElementList"][0].update(stimulator=True), r"\$\.coilElementList\[0\]\.stimulator",
     "expected an integer, got a boolean true"),
    (lambda s: s["coilElementList"][0].update(points=[[1, 2]]), r"\$\.coilElementList\[0\]\.points\[0\]",
     "expected an array of 3 numbers"),
    (lambda s: s["coilElementList"][0].update(points=[["1", "2", "3"]] * 4),
     r"\$\.coilElementList\[0\]\.points\[0\]\[0\]", 'expected a number, got a string "1"'),
    (lambda s: s["coilElementList"][1].update(points="not base64 !!"), r"\$\.coilElementList\[1\]\.points",
     "not base64-encoded zlib-compressed"),
    (lambda s: s.pop("stimulatorList"), r"\$", "missing required key 'stimulatorList'"),
    (lambda s: s.update(stimulatorlist=[]), r"\$", "unknown key 'stimulatorlist'"),
    (lambda s: s["deformList"][0].pop("deformRange"), r"\$\.deformList\[0\]",
     "missing required key 'deformRange'"),
    (lambda s: s["coilElementList"][0].update(type=3), r"\$\.coilElementList\[0\]",
     "takes data/affine, not points/values"),
    (lambda s: s["coilElementList"][2].update(data=[[[[1.0, 2.0, 3.0]]]]), r"\$\.coilElementList\[2\]\.data",
     "shape (X, Y, Z, 3) with X, Y, Z >= 2, got (1, 1, 1, 3)"),
    (lambda s: s["coilElementList"][2].update(data=_pickled_os_system()),
     r"\$\.coilElementList\[2\]\.data", "refused os.system: only numpy arrays are read"),
    (lambda s: s["coilModels"][0].update(faces=[[0, 1, 7]]), r"\$\.coilModels\[0\]\.faces",
     "vertex index out of range 0..2"),
])
def test_tcd_wrong_json_types_name_the_json_path(tmp_path, edit, where, words):
    """Finding: wrong JSON types raised AttributeError (e.g. an element that is a string)."""
    path = _tcd(tmp_path, edit)
    with pytest.raises(FileFormatError) as info:
        tf.coils.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert re.search(where + ": ", message), message
    assert words in message


@pytest.mark.parametrize("value, words", [(0, "> 0"), (-1e8, "> 0"), (float("nan"), "finite"),
                                          (float("inf"), "finite")])
def test_tcd_impossible_maxdidt_is_a_coil_error(tmp_path, value, words):
    path = _tcd(tmp_path, lambda s: s["stimulatorList"][1].update(maxdIdt=value))
    with pytest.raises(CoilError, match=r"\$\.stimulatorList\[1\]\.maxdIdt: expected a .*" + words):
        tf.coils.load(path)


def test_tcd_deep_nesting_is_a_file_format_error(tmp_path):
    """Finding: deeply nested JSON raised RecursionError."""
    path = tmp_path / "deep.tcd"
    path.write_text('{"coilElementList": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(FileFormatError, match=r"deep\.tcd: JSON nested too deeply"):
        tf.coils.load(path)


def test_tcd_huge_stimulator_index_is_refused_before_allocating(tmp_path):
    """Finding: "stimulator": 3e8 made a 3e8-stimulator coil (2.6 GB allocated when scaled)."""
    path = _tcd(tmp_path, lambda s: s["coilElementList"][0].update(stimulator=3e8))
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"\$\.coilElementList\[0\]\.stimulator: index 300000000 but "
                                                  r"stimulatorList has 2 entries"):
            tf.coils.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


def test_tcd_element_cap_is_checked_before_inflating_and_can_be_raised(tmp_path):
    many = np.zeros((5000, 3))
    many[:, 2] = 1.0
    def edit(s):
        s["coilElementList"][1].update(points=_b64(many), values=_b64(many * 1e-6))
    path = _tcd(tmp_path, edit)
    with pytest.raises(FileFormatError, match=r"\$\.coilElementList\[1\]\.points: the file declares more than "
                                              r"1,000 elements.*max_elements="):
        tf.coils.load(path, max_elements=1000)
    assert len(tf.coils.load(path, max_elements=20000).dipole_positions) == 5000
    # a zlib bomb: 80 MB of zeros in ~80 kB is refused without inflating it
    bomb = base64.b64encode(zlib.compress(bytes(80_000_000), 9)).decode()
    path = _tcd(tmp_path, lambda s: s["coilElementList"][1].update(points=bomb), name="bomb.tcd")
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"bomb\.tcd: .*points: the file declares more than 100,000"):
            tf.coils.load(path, max_elements=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6


def test_tcd_non_utf8_is_a_file_format_error(tmp_path):
    path = tmp_path / "latin.tcd"
    path.write_bytes(b'{"name": "Spule \xfc"}')
    with pytest.raises(FileFormatError, match=r"latin\.tcd, line 1 \(byte offset 16\): not UTF-8"):
        tf.coils.load(path)


# --- .ccd ------------------------------------------------------------------------------------

def _ccd(tmp_path, scale=1.0, header="# ring.ccd version 1.1;coilname=ring;dIdtmax=150", name="coil.ccd"):
    text = fz._ccd_seed().decode().splitlines()
    rows = [" ".join(f"{float(v) * (scale if k < 3 else 1.0):.6e}" for k, v in enumerate(r.split()))
            for r in text[3:]]
    path = tmp_path / name
    path.write_text("\n".join([header, text[1], text[2], *rows]) + "\n")
    return path


def test_ccd_in_mm_is_refused(tmp_path):
    """Finding: a .ccd with positions in mm was accepted (a coil 1000x too big)."""
    assert np.allclose(np.linalg.norm(tf.coils.load(_ccd(tmp_path)).dipole_positions[:, :2], axis=1), 0.03)
    path = _ccd(tmp_path, scale=1e3, name="mm.ccd")
    with pytest.raises(CoilError, match=r"mm\.ccd, line 4: dipole 1 lies 30\.0\d* m from the coil origin .*in "
                                        r"metres.*in mm; divide the positions by 1000"):
        tf.coils.load(path)


def test_shared_ccd_examples_are_in_metres(shared_data):
    for name in ("testcoil.ccd", "Magstim_70mm_Fig8.ccd", "MagVenture_MC_B70.ccd"):
        coil = tf.coils.load(data_file(shared_data, f"simnibs/{name}"))
        assert np.abs(coil.dipole_positions).max() < 0.5


@pytest.mark.parametrize("value, error, words", [
    ("nan", CoilError, "finite number > 0"), ("-5", CoilError, "finite number > 0"),
    ("0", CoilError, "finite number > 0"), ("inf", CoilError, "finite number > 0"),
    ("abc", FileFormatError, "not a number"), ("100,0", CoilError, "finite number > 0"),
])
def test_ccd_impossible_didtmax_is_refused(tmp_path, value, error, words):
    """Finding: dIdtmax NaN, negative or 0 was accepted."""
    path = _ccd(tmp_path, header=f"# ring.ccd version 1.1;coilname=ring;dIdtmax={value}")
    with pytest.raises(error, match=rf"coil\.ccd, line 1: dIdtmax={value!r}.*{words}"):
        tf.coils.load(path)


def test_ccd_unknown_didtmax_and_announced_count_cap(tmp_path):
    assert tf.coils.load(_ccd(tmp_path, header="# c;dIdtmax=None")).max_didt == ()
    path = tmp_path / "huge.ccd"
    path.write_text("# huge\n300000000\n# dipoles\n0 0 0 0 0 1\n")
    with pytest.raises(FileFormatError, match=r"huge\.ccd, line 2: announces 300,000,000 dipoles, more than "
                                              r"the cap of 2,000,000.*max_elements=300000000"):
        tf.coils.load(path)
    path.write_bytes(b"# coil \xff\n1\n0 0 0 0 0 1\n")
    with pytest.raises(FileFormatError, match=r"huge\.ccd, line 1 \(byte offset 7\): not UTF-8 text"):
        tf.coils.load(path)


# --- .nii.gz coils ----------------------------------------------------------------------------

def test_broken_nifti_coils_are_named_errors(tmp_path):
    """Finding: a .nii.gz coil gave "unknown built-in coil" in the CLI; now it is read, and a
    file that is no NIfTI coil grid is an error naming it."""
    pytest.importorskip("nibabel")
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(gzip.compress(bytes(348)))
    for load in (tf.coils.load, load_coil):
        with pytest.raises(FileFormatError, match=r"broken\.nii\.gz: not a readable NIfTI coil"):
            load(str(path))
    result = CliRunner().invoke(main, ["coil", "info", str(path)])
    assert result.exit_code == 1 and "not a readable NIfTI coil" in result.output and "built-in" not in result.output
    with pytest.raises(FileFormatError, match=r"missing\.nii\.gz: no such coil file"):
        load_coil(str(tmp_path / "missing.nii.gz"))


# --- SWC --------------------------------------------------------------------------------------

def _swc(tmp_path, body: bytes, name="cell.swc"):
    path = tmp_path / name
    path.write_bytes(b"# id type x y z radius parent\n" + body)
    return path


def test_swc_non_utf8_byte_names_line_and_column(tmp_path):
    """Finding: a non-UTF-8 byte raised UnicodeDecodeError."""
    path = _swc(tmp_path, b"1 1 0 0 0 5 -1\n2 3 0 0 1\xe90 1 1\n")
    with pytest.raises(FileFormatError, match=r"cell\.swc:3: byte 0xe9 at column 10 is not UTF-8 text"):
        tf.neurons.load_swc(path)
    # a Latin-1 byte in a comment does not matter
    ok = _swc(tmp_path, b"# auteur: Ren\xe9\n1 1 0 0 0 5 -1\n2 3 0 0 10 1 1\n", name="ok.swc")
    assert len(tf.neurons.load_swc(ok).parent) >= 2


@pytest.mark.parametrize("coordinate", [b"1e300", b"1e9", b"-2e5"])
def test_swc_implausible_coordinates_are_refused(tmp_path, coordinate):
    """Findings: 1e300 µm raised OverflowError, 1e9 µm ran out of memory."""
    path = _swc(tmp_path, b"1 1 0 0 0 5 -1\n2 3 0 0 " + coordinate + b" 1 1\n")
    with pytest.raises(FileFormatError, match=r"cell\.swc:3: coordinate or radius .* µm is beyond 100000 µm "
                                              r"\(10 cm\).*in µm"):
        tf.neurons.load_swc(path)


def test_swc_implausible_radius_is_refused(tmp_path):
    with pytest.raises(FileFormatError, match=r"cell\.swc:2: coordinate or radius 1e\+06 µm is beyond"):
        tf.neurons.load_swc(_swc(tmp_path, b"1 1 0 0 0 1e6 -1\n2 3 0 0 10 1 1\n"))
    with pytest.raises(FileFormatError, match=r"cell\.swc:3: radius 1e-300 µm is below"):
        tf.neurons.load_swc(_swc(tmp_path, b"1 1 0 0 0 5 -1\n2 3 0 0 10 1e-300 1\n"))


def test_swc_compartment_cap_is_checked_before_allocating_and_can_be_raised(tmp_path):
    path = _swc(tmp_path, b"1 1 0 0 0 5 -1\n2 3 0 0 1000 1 1\n")      # 1 mm dendrite
    with pytest.raises(FileFormatError, match=r"cell\.swc: 2 samples with compartments of at most 1 µm would make "
                                              r"(1,00[12]) compartments, more than the cap of 500.*"
                                              r"max_compartments=") as info:
        tf.neurons.load_swc(path, max_length=1e-6, max_compartments=500)
    predicted = int(re.search(r"make ([\d,]+) compartments", str(info.value)).group(1).replace(",", ""))
    assert len(tf.neurons.load_swc(path, max_length=1e-6, max_compartments=predicted).parent) == predicted
    # the largest plausible cell still respects the default cap: a clear error, not a memory blow-up
    big = _swc(tmp_path, b"1 1 -90000 0 0 5 -1\n2 3 90000 0 0 1 1\n", name="big.swc")
    with pytest.raises(FileFormatError, match=r"big\.swc: .*more than the cap of 1,000,000"):
        tf.neurons.load_swc(big, max_length=0.1e-6)
    with pytest.raises(TmsFieldError, match="max_length must be a finite number > 0"):
        tf.neurons.load_swc(path, max_length=0.0)


# --- TOML configs -----------------------------------------------------------------------------

@pytest.mark.parametrize("line, words", [
    ("didt = true", "didt: expected a number, got a boolean true"),
    ('didt = "1e8"', "didt: expected a number, got a string '1e8'"),
    ("didt = nan", "didt: expected a finite number"),
    ("edge_length_mm = 0", "edge_length_mm: must be a number > 0, got 0"),
    ("edge-length-mm = 0", "edge-length-mm: must be a number > 0, got 0"),
    ("edge_length_mm = -3.0", "edge_length_mm: must be a number > 0, got -3.0"),
    ("edge_length_mm = inf", "edge_length_mm: expected a finite number"),
    ("order = true", "order: expected an integer, got a boolean true"),
    ("order = 3", "order: 3 is not in the range 1<=x<=2"),
    ("picture = 1", "picture: expected true or false, got a number 1"),
    ("method = 1", "method: expected a string, got a number 1"),
    ('method = "fdtd"', "method: 'fdtd' is not one of 'fem', 'bem'"),
    ("center_mm = [0, true, 95]", r"center_mm\[1\]: expected a number, got a boolean true"),
    ("conductivity = {3 = true}", r"conductivity\.3: expected a number, got a boolean true"),
    ("conductivity = [3]", r"conductivity\[0\]: expected a string like"),
    ("heads = 'demo'", "unknown key 'heads'"),
])
def test_config_values_get_the_type_their_option_needs(tmp_path, line, words):
    """Findings: `didt = true` was read as 1 A/s; `edge_length_mm = 0` silently meant 6 mm."""
    path = tmp_path / "run.toml"
    path.write_text(line + "\n")
    with pytest.raises(FileFormatError, match=r"run\.toml: " + words.replace("(", r"\(").replace(")", r"\)")):
        load_config(path, click.Context(simulate))
    result = CliRunner().invoke(main, ["simulate", "--config", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "run.toml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_config_good_values_and_broken_files(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("edge-length-mm = 6\ncenter_mm = [-50, 10, 80.5]\nconductivity = {3 = 1.654}\n"
                    "didt = 120000000\npicture = false\norder = 1\n")
    assert load_config(path, click.Context(simulate)) == {
        "edge_length_mm": 6, "center_mm": "-50,10,80.5", "conductivity": ["3=1.654"], "didt": 120000000,
        "picture": False, "order": 1}
    for body, words in [(b"didt = \xff\n", r"line 1 \(byte offset 7\): not UTF-8"),
                        (b"a = " + b"[" * 100000, "nested too deeply"),
                        (b"didt = = 1\n", "not valid TOML"),
                        (b"edge_length_mm = 6\nedge-length-mm = 7\n", "given twice")]:
        path.write_bytes(body)
        with pytest.raises(FileFormatError, match=r"run\.toml.*" + words):
            load_config(path, click.Context(simulate))


@pytest.mark.parametrize("value", ["0", "-6", "nan", "inf"])
def test_edge_length_zero_on_the_command_line_is_refused(tmp_path, value):
    """Finding: `--edge-length-mm 0` silently used 6 mm."""
    result = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", value,
                                       "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "--edge-length-mm (edge_length_mm) must be a finite length > 0 in mm" in result.output
    assert not (tmp_path / "o").exists()


# --- pose files -------------------------------------------------------------------------------

@pytest.mark.parametrize("body, error, words", [
    (b"1 0 0 0\n0 -1 0 0\n0 0 -1 104\n", FileFormatError, "expected 4 rows of numbers, found 3"),
    (b"1 0 0\n0 -1 0\n0 0 -1\n", FileFormatError, "line 1: expected 4 numbers, found 3"),
    (b"1 0 0 0\n0 -1 0 0\n0 0 -1 nan\n0 0 0 1\n", FileFormatError, "line 3: NaN or infinite value"),
    (b"1 0 0 0\n0 -1 0 0\n0 0 -1 1e999\n0 0 0 1\n", FileFormatError, "line 3: NaN or infinite value"),
    (b"1 0 0 0\n0 -1 zero 0\n0 0 -1 104\n0 0 0 1\n", FileFormatError, "line 2: not numbers"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", FileFormatError, r"line 1 \(byte offset 0\): not UTF-8"),
    (b"", FileFormatError, r"expected 4 rows of numbers, found 0 \(empty file\)"),
    (b"1 0 0 0\n" * 20000, FileFormatError, "larger than 65536 bytes"),
    (b"1 0 0 0\n0 1 0 0\n0 0 1 104\n0 0 0 1\n0 0 0 1\n", FileFormatError, "expected 4 rows of numbers, found 5"),
    (b"2 0 0 0\n0 -1 0 0\n0 0 -1 104\n0 0 0 1\n", PlacementError, "orthonormal"),
])
def test_malformed_pose_files_name_the_file(tmp_path, body, error, words):
    path = tmp_path / "matsimnibs.txt"
    path.write_bytes(body)
    with pytest.raises(error, match=r"matsimnibs\.txt[,:] .*" + words):
        tf.CoilPose.load(path)


def test_pose_file_with_comments_loads_in_mm(tmp_path):
    path = tmp_path / "pose.txt"
    path.write_text("# matsimnibs (mm)\n1 0 0 0\n0 -1 0 0\n\n0 0 -1 104  # centre 104 mm up\n0 0 0 1\n")
    assert np.allclose(tf.CoilPose.load(path).center, [0, 0, 0.104])


# --- fuzzing (hypothesis) ---------------------------------------------------------------------

FUZZ_EXAMPLES = int(os.environ.get("TMSFIELD_FUZZ_EXAMPLES", "0")) or None
#: examples per reader on CI, each reader well under ~10 s on a 2-core machine
CI_EXAMPLES = {"ccd": 1000, "tcd": 800, "nifti": 100, "swc": 1000, "config": 1000, "pose": 1000}


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _fuzz(reader):
    @settings(max_examples=FUZZ_EXAMPLES or CI_EXAMPLES[reader], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(rng=st.randoms(use_true_random=False))
    def check(fuzz_dir, rng):
        name, seed = rng.choice(fz.seeds_cached(reader))
        path = fuzz_dir / f"case{fz.SUFFIX[reader]}"
        path.write_bytes(fz.mutate(reader, seed, rng))
        try:
            fz.run_reader(reader, path)
        except TmsFieldError:
            pass
    return check


@pytest.mark.parametrize("reader", fz.READERS)
def test_fuzz_reader_gives_only_clean_errors(fuzz_dir, reader):
    _fuzz(reader)(fuzz_dir)


def test_fuzz_campaign_script_counts_and_writes_nothing_with_no_write(monkeypatch):
    rows = fz.main(["--cases", "4", "--readers", "pose,nifti", "--no-write"])
    assert [r["reader"] for r in rows] == ["pose", "nifti"]
    for r in rows:
        assert r["error"] + r["success"] == 4 and r["traceback"] == r["hang"] == r["crash"] == 0
    monkeypatch.setenv("TMSFIELD_FUZZ_CRASH_AT", "1")        # the worker dies at case 1: counted, then resumed
    row = fz.campaign("pose", 3, "0", timeout=10.0, memory_gb=3.0, stall=60.0)
    assert row["crash"] == 1 and row["error"] + row["success"] == 2 and row["examples"][0]["case"] == 1


def test_fuzz_mutators_are_deterministic():
    assert fz.make_case("tcd", "s", 7) == fz.make_case("tcd", "s", 7)
    assert fz.mutate_bytes(b"abc", random.Random(1)) == fz.mutate_bytes(b"abc", random.Random(1))


def test_tcd_initial_deformation_outside_its_range_is_a_coil_error(tmp_path):
    path = _tcd(tmp_path, lambda s: s["deformRangeList"][0].update(initial=15))
    with pytest.raises(CoilError, match=r"\$\.deformRangeList\[0\]\.initial: 15 lies outside its range "
                                        r"\[-10.0, 10.0\]"):
        tf.coils.load(path)
