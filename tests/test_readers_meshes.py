"""Hostile input to the mesh and NIfTI readers: each finding of the review reproduced from a
file built here (broken topology, wrong units, resource bombs, meshio's sys.exit), now a named
TmsFieldError; plus hypothesis fuzzing of every mesh format (only TmsFieldError or success may
come out). More fuzz examples with TMSFIELD_FUZZ_EXAMPLES=n."""
import gzip
import os
import re
import struct
import time
import tracemalloc
import zlib

import meshio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tmsfield as tf
from tmsfield.core.errors import FileFormatError, MeshError, TmsFieldError
from tmsfield.head_models import gmsh_msh
from tmsfield.head_models import io as head_io
from tmsfield.head_models.gmsh_msh import read_msh, write_msh
from tmsfield.validation import fuzz_meshes

UNIT_TET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)


@pytest.fixture(scope="module")
def seed():
    """The fuzz campaign's seed mesh (mm): a 150 mm cube of 1296 tetrahedra, tags 3 and 5."""
    return fuzz_meshes.seed_mesh()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The seed mesh in every format of the campaign."""
    return fuzz_meshes.write_seeds(tmp_path_factory.mktemp("seeds"))


def _write(path, nodes, tets, tags, tris=None, tri_tags=None):
    write_msh(path, nodes, triangles=tris, triangle_tags=tri_tags, tetrahedra=tets, tetrahedron_tags=tags)
    return path


def _raises(kind, call, *patterns):
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), (pattern, message)
    return message


# ------------------------------------------------------------------------------ topology

def test_duplicate_elements_are_named_by_their_file_ids(seed, tmp_path):
    nodes, tets, tags, tris, tri_tags = seed
    path = _write(tmp_path / "dup.msh", nodes, np.vstack([tets, tets[7][[1, 0, 3, 2]]]),
                  np.append(tags, tags[7]), tris, tri_tags)
    # element ids in the file: triangles first (1..K), so tetrahedron row 7 is id K + 8
    first, copy = len(tris) + 8, len(tris) + len(tets) + 1
    _raises(MeshError, lambda: tf.load_head(path), r"dup\.msh", "1 duplicate tetrahedra",
            rf"element id\(s\) {first}, {copy} \(gmsh ids, as in the file\)", "same four nodes",
            "removeDuplicateElements")
    _raises(MeshError, lambda: tf.HeadMesh(nodes * 1e-3, np.vstack([tets, tets[:1]]), np.append(tags, 3)),
            rf"element\(s\) 0, {len(tets)} \(0-based\) have the same four nodes")


def test_isolated_duplicate_tetrahedron(tmp_path):
    """Two copies of a lone tetrahedron share every face with just each other: the face rule
    alone would not see them."""
    nodes = UNIT_TET * 50.0
    _raises(MeshError, lambda: tf.load_head(_write(tmp_path / "two.msh", nodes, [[0, 1, 2, 3]] * 2, [1, 1]),
                                            plausible_extent_m=None),
            r"two\.msh: 1 duplicate tetrahedra: element id\(s\) 1, 2")


def test_crack_of_duplicated_nodes_is_found(seed, tmp_path):
    """Tetrahedra on one side of the plane x = 0 get their own copies of the nodes on it: a
    crack, each half still a valid mesh."""
    nodes, tets, tags, tris, tri_tags = seed
    on_plane = np.flatnonzero(np.isclose(nodes[:, 0], 0.0))
    copies = len(nodes) + np.arange(len(on_plane))
    remap = np.arange(len(nodes))
    remap[on_plane] = copies
    right = nodes[tets].mean(axis=1)[:, 0] > 0
    cracked = tets.copy()
    cracked[right] = remap[tets[right]]
    path = _write(tmp_path / "crack.msh", np.vstack([nodes, nodes[on_plane]]), cracked, tags)
    message = _raises(MeshError, lambda: tf.load_head(path), r"crack\.msh", rf"{len(on_plane)} duplicated node",
                      r"node id\(s\) \d+, \d+ \(gmsh ids", "crack", "removeDuplicateNodes")
    ids = [int(i) for i in re.search(r"node id\(s\) (\d+), (\d+)", message).groups()]
    both = np.vstack([nodes, nodes[on_plane]])
    assert np.array_equal(both[ids[0] - 1], both[ids[1] - 1])


def test_face_of_three_tetrahedra(tmp_path):
    nodes = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.2, -1], [0.3, 0.3, 0.5]]) * 40.0
    tets = [[0, 1, 2, 3], [0, 2, 1, 4], [0, 1, 2, 5]]          # the third overlaps the first
    path = _write(tmp_path / "overlap.msh", nodes, tets, [1, 1, 1])
    _raises(MeshError, lambda: tf.load_head(path), r"overlap\.msh: 1 face\(s\) are shared by more than two",
            r"element id\(s\) 1, 2, 3", r"node id\(s\) 1, 2, 3", "overlap")


def test_node_index_minus_one(seed, tmp_path):
    nodes, tets, tags, tris, tri_tags = seed
    # .msh: node id -1 (0 after the 1-based shift) is no node of the file
    raw = _write(tmp_path / "m.msh", nodes, tets, tags).read_bytes()
    at = raw.index(b"$Elements\n") + len(b"$Elements\n")
    at = raw.index(b"\n", at) + 1 + 12 + 4 * 3            # count line, block header, id + 2 tags
    bad = tmp_path / "minus.msh"
    bad.write_bytes(raw[:at] + struct.pack("<i", -1) + raw[at + 4:])
    _raises(FileFormatError, lambda: tf.load_head(bad), r"minus\.msh: \$Elements: tetrahedron 1 names node id -1")
    # .vtu (0-based): -1 would wrap round to the last point
    cells = tets.copy()
    cells[5, 2] = -1
    mesh = meshio.Mesh(nodes * 1e-3, [("tetra", cells)], cell_data={"tissue": [tags]})
    mesh.write(tmp_path / "minus.vtu")
    _raises(MeshError, lambda: tf.load_head(tmp_path / "minus.vtu"), r"minus\.vtu: tetrahedra reference nodes outside",
            r"cell\(s\) 5 \(0-based, as in the file\) uses node index -1", "wrap")
    cells[5, 2] = len(nodes)
    meshio.Mesh(nodes * 1e-3, [("tetra", cells)], cell_data={"tissue": [tags]}).write(tmp_path / "over.vtu")
    _raises(MeshError, lambda: tf.load_head(tmp_path / "over.vtu"), rf"uses node index {len(nodes)}")
    with pytest.raises(MeshError, match="outside"):
        tf.HeadMesh(nodes * 1e-3, cells, tags)


@pytest.mark.parametrize("delta", [-1, -5, 3])
def test_wrong_element_counts(seeds, tmp_path, delta):
    for fmt in ("msh22-ascii", "msh22-binary", "msh41-ascii", "msh41-binary"):
        raw = seeds[fmt].read_bytes()
        start = raw.index(b"$Elements\n") + len(b"$Elements\n")
        end = raw.index(b"\n", start)
        words = raw[start:end].split()
        if fmt.startswith("msh22"):
            header = b"%d" % (int(words[0]) + delta)
        elif fmt == "msh41-ascii":
            header = b" ".join([words[0], b"%d" % (int(words[1]) + delta)] + words[2:])
        else:     # binary 4.1: the size_t counts follow the line break directly
            end = start + 32
            blocks, count, lo, hi = struct.unpack_from("<4Q", raw, start)
            header = struct.pack("<4Q", blocks, count + delta, lo, hi)
        path = tmp_path / f"count_{fmt}.msh"
        path.write_bytes(raw[:start] + header + raw[end:])
        with pytest.raises(FileFormatError) as info:
            tf.load_head(path)
        message = str(info.value)
        assert path.name in message and "$Elements" in message, message
        assert re.search(r"announces|more than|count|holds|expected \$EndElements", message), message


def test_units_plausibility_names_the_right_units(seed, tmp_path):
    nodes, tets, tags, _, _ = seed
    cm = _write(tmp_path / "cm.msh", nodes / 10, tets, tags)     # a 15 cm head written in cm
    _raises(FileFormatError, lambda: tf.load_head(cm), r"cm\.msh: the mesh is 0\.015 m across with units='mm'",
            r"0\.03-0\.5 m", r"units='cm' \(0\.15 m\)")
    assert tf.load_head(cm, units="cm").n_tets == len(tets)
    assert tf.load_head(cm, plausible_extent_m=None).n_tets == len(tets)
    metres = _write(tmp_path / "metres.msh", nodes / 1000, tets, tags)
    _raises(FileFormatError, lambda: tf.load_head(metres), r"units='m' \(0\.15 m\)")
    huge = _write(tmp_path / "huge.msh", nodes * 1e4, tets, tags)
    _raises(FileFormatError, lambda: tf.load_head(huge), "no length unit makes it head-sized")


# ------------------------------------------------------------------------- resource bombs

def _gzip_stream(path, head: bytes, zeros: int):
    """``head`` then ``zeros`` zero bytes, gzipped without holding them in memory."""
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(head)
        block = bytes(2**20)
        for _ in range(zeros // len(block)):
            out.write(block)


def test_gzip_bomb_is_refused_with_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(gmsh_msh, "GZIP_RATIO_FLOOR", 2**20)      # a small bomb is enough here
    bomb = tmp_path / "bomb.msh.gz"
    _gzip_stream(bomb, b"$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Comments\n", 64 * 2**20)
    assert bomb.stat().st_size < 2**17
    tracemalloc.start()
    try:
        _raises(FileFormatError, lambda: tf.load_head(bomb), r"bomb\.msh\.gz: the gzipped file inflates to "
                r"more than 100 times", "decompression bomb", "max_bytes=")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20, peak
    _raises(FileFormatError, lambda: read_msh(bomb, max_bytes=10 * 2**20),
            r"more than the cap of 10 MiB \(max_bytes=10485760\)")


def test_max_bytes_caps_and_raises(seeds, tmp_path):
    gz = seeds["msh-gz"]
    inflated = len(gzip.decompress(gz.read_bytes()))
    _raises(FileFormatError, lambda: tf.load_head(gz, max_bytes=inflated - 1), rf"max_bytes={inflated - 1}")
    assert tf.load_head(gz, max_bytes=inflated).n_tets == 1296
    plain = seeds["msh22-binary"]
    size = plain.stat().st_size
    _raises(FileFormatError, lambda: tf.load_head(plain, max_bytes=size - 1), rf"the file is {size} bytes|the file is",
            rf"cap of {size - 1} bytes", "max_bytes=")
    assert read_msh(plain, max_bytes=size).tetrahedra.shape == (1296, 4)


def test_zlib_vtu_bomb_is_refused(seed, tmp_path, monkeypatch):
    monkeypatch.setattr(gmsh_msh, "GZIP_RATIO_FLOOR", 2**20)
    nodes, tets, tags, _, _ = seed
    padding = np.zeros((len(tets), 2000))                        # 20 MiB of zeros, ~20 kB zlib
    mesh = meshio.Mesh(nodes * 1e-3, [("tetra", tets)], cell_data={"tissue": [tags], "pad": [padding]})
    path = tmp_path / "bomb.vtu"
    mesh.write(path, compression="zlib")
    assert path.stat().st_size < 2**19
    _raises(FileFormatError, lambda: tf.load_head(path), r"bomb\.vtu: the compressed arrays of the \.vtu inflate to "
            "more than 100 times", "max_bytes=")
    _raises(FileFormatError, lambda: tf.load_head(path, max_bytes=5 * 2**20), r"cap of 5242880 bytes")
    assert tf.load_head(path, max_bytes=2**26).n_tets == len(tets)
    assert head_io._VTU_INFLATION.left is None                   # the budget is only active inside a read
    assert zlib.decompress(zlib.compress(b"x" * 10)) == b"x" * 10


@pytest.mark.parametrize("fmt", ["msh22-ascii", "msh22-binary", "msh41-ascii", "msh41-binary"])
@pytest.mark.parametrize("section", ["Nodes", "Elements"])
def test_absurd_declared_counts_allocate_nothing(seeds, tmp_path, fmt, section):
    raw = seeds[fmt].read_bytes()
    start = raw.index(f"${section}\n".encode()) + len(section) + 2
    if fmt == "msh41-binary":
        header = struct.pack("<Q", 1) + struct.pack("<Q", 10**15)
        raw = raw[:start] + header + raw[start + 16:]
    else:
        end = raw.index(b"\n", start)
        words = raw[start:end].split()
        words[1 if fmt == "msh41-ascii" else 0] = b"1000000000000000"
        raw = raw[:start] + b" ".join(words) + raw[end:]
    path = tmp_path / f"absurd_{fmt}.msh"
    path.write_bytes(raw)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FileFormatError, match=rf"absurd_{fmt}\.msh: \${section}"):
            read_msh(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(raw) + 2**20 and time.perf_counter() - started < 5


def test_huge_data_components_are_refused(tmp_path):
    text = (b"$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$Nodes\n4\n1 0 0 0\n2 50 0 0\n3 0 50 0\n4 0 0 50\n$EndNodes\n"
            b"$Elements\n1\n1 4 2 1 1 1 2 3 4\n$EndElements\n"
            b'$NodeData\n1\n"x"\n1\n0\n3\n0\n1000000000000\n0\n$EndNodeData\n')
    path = tmp_path / "components.msh"
    path.write_bytes(text)
    _raises(FileFormatError, lambda: read_msh(path), r"\$NodeData: 'x' announces 1000000000000 components")


def test_long_digit_run_is_not_a_regex_hang(seeds, tmp_path):
    raw = seeds["msh22-ascii"].read_bytes()
    at = raw.index(b"$Nodes\n") + 12
    path = tmp_path / "digits.msh"
    path.write_bytes(raw[:at] + b" " + b"7" * 200_000 + b"x " + raw[at:])
    started = time.perf_counter()
    _raises(FileFormatError, lambda: read_msh(path), r"is not a number")
    assert time.perf_counter() - started < 2
    path.write_bytes(raw.replace(b"2.2 0 8", b"2.2 0 " + b"8" * 5000, 1))
    _raises(FileFormatError, lambda: read_msh(path), r"\$MeshFormat")


# -------------------------------------------------------------------------- meshio, NIfTI

@pytest.mark.parametrize("exc", [SystemExit(1), RecursionError("deep"), KeyError("Piece"), MemoryError()])
def test_meshio_failures_become_file_format_errors(seeds, monkeypatch, exc):
    from meshio.vtu import _vtu

    def fail(filename):
        raise exc
    monkeypatch.setattr(_vtu, "read", fail)
    _raises(FileFormatError, lambda: tf.load_head(seeds["vtu"]), r"seed_vtu\.vtu: cannot read as vtu mesh",
            type(exc).__name__)


def test_garbage_vtu_does_not_exit(tmp_path):
    path = tmp_path / "garbage.vtu"
    path.write_bytes(b"<VTKFile type='UnstructuredGrid'><Nope/></VTKFile>")
    _raises(FileFormatError, lambda: tf.load_head(path), r"garbage\.vtu")
    path.write_bytes(b"\x00\x01 not xml at all")
    _raises(FileFormatError, lambda: tf.load_head(path), r"garbage\.vtu")


def test_check_nifti_reference(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    from tmsfield.solver.results.nifti import check_nifti_reference
    header = nibabel.Nifti1Header()
    header.set_data_shape((30000, 30000, 30000))
    header.set_data_dtype(np.uint8)
    huge = tmp_path / "huge.nii"
    huge.write_bytes(header.binaryblock + bytes(4))            # the header only: 30000³ voxels claimed
    _raises(FileFormatError, lambda: check_nifti_reference(huge),
            r"huge\.nii: the reference grid \(30000, 30000, 30000\)",
            "cap of 268435456", "max_voxels")
    assert check_nifti_reference(huge, max_voxels=30000**3) == (30000, 30000, 30000)
    small = tmp_path / "t1.nii.gz"
    nibabel.save(nibabel.Nifti1Image(np.zeros((4, 5, 6), np.float32), np.diag([2.0, 2, 2, 1])), small)
    assert check_nifti_reference(small) == (4, 5, 6)
    flat = tmp_path / "flat.nii.gz"
    image = nibabel.Nifti1Image(np.zeros((4, 5, 6), np.float32), np.eye(4))
    image.set_qform(None, code=0)
    image.set_sform(np.diag([2.0, 0, 2, 1]), code=2)            # a singular voxel-to-world map
    nibabel.save(image, flat)
    _raises(FileFormatError, lambda: check_nifti_reference(flat), "affine", "invertible")
    junk = tmp_path / "junk.nii"
    junk.write_bytes(b"not a nifti file")
    _raises(FileFormatError, lambda: check_nifti_reference(junk), r"junk\.nii: cannot read a NIfTI header")


# ---------------------------------------------------------------------------------- fuzz

EXAMPLES = int(os.environ.get("TMSFIELD_FUZZ_EXAMPLES", "400"))
VALUES = [0, 1, -1, 2, 3, 7, 1000, 2**31 - 1, 2**31, 2**32, 10**9, 10**18, -(2**31)]
OPS = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1),
              st.one_of(st.sampled_from(fuzz_meshes._JUNK), st.binary(min_size=1, max_size=32))),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 3000)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 3000), st.floats(0, 1)),
    st.tuples(st.just("count"), st.integers(0, 10**6), st.sampled_from(VALUES)),
    st.tuples(st.just("word"), st.floats(0, 1), st.sampled_from(VALUES), st.sampled_from([4, 8])),
)


def _apply(data: bytes, ops) -> bytes:
    for op in ops:
        at = min(int(op[1] * len(data)), max(len(data) - 1, 0)) if op[0] != "count" else 0
        if op[0] == "flip" and data:
            data = data[:at] + bytes([op[2]]) + data[at + 1:]
        elif op[0] == "truncate":
            data = data[:at]
        elif op[0] == "insert":
            data = data[:at] + op[2] + data[at:]
        elif op[0] == "delete":
            data = data[:at] + data[at + op[2]:]
        elif op[0] == "duplicate":
            where = int(op[3] * len(data))
            data = data[:where] + data[at:at + op[2]] + data[where:]
        elif op[0] == "count":
            numbers = list(re.finditer(rb"-?\d+", data))
            if numbers:
                m = numbers[op[1] % len(numbers)]
                data = data[:m.start()] + str(op[2]).encode() + data[m.end():]
        elif op[0] == "word":
            at -= at % 4
            width = op[3]
            if at + width <= len(data):
                value = max(min(op[2], 2**(8 * width - 1) - 1), -2**(8 * width - 1))
                data = data[:at] + struct.pack("<i" if width == 4 else "<q", value) + data[at + width:]
    return data


@pytest.mark.parametrize("fmt", fuzz_meshes.FORMATS)
def test_fuzz_only_named_errors(seeds, tmp_path_factory, fmt):
    seed_bytes = seeds[fmt].read_bytes()
    work = tmp_path_factory.mktemp("fuzz") / seeds[fmt].name.replace("seed_", "case_")

    @settings(max_examples=EXAMPLES, deadline=None, derandomize="TMSFIELD_FUZZ_EXAMPLES" not in os.environ,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(OPS, min_size=1, max_size=3))
    def run(ops):
        work.write_bytes(_apply(seed_bytes, ops))
        try:
            tf.load_head(work)
        except TmsFieldError:
            pass

    run()
