"""Native gmsh .msh reader and writer (head_models.gmsh_msh): agreement with meshio and with
gmsh itself, round trips, and clear errors for malformed files. All comparisons are exact:
both sides copy the same bytes."""
import gzip
import re
import struct

import meshio
import numpy as np
import pytest
from conftest import data_file

import tmsfield as tf
from tmsfield.core.errors import FileFormatError, MeshError
from tmsfield.head_models import gmsh_msh
from tmsfield.head_models.gmsh_msh import NODES_PER_ELEMENT, read_msh, write_msh
from tmsfield.head_models.gmsh_session import gmsh_session
from tmsfield.head_models.io import load_tensors, to_meshio, write_mesh

VARIANTS = [(version, binary) for version in ("2.2", "4.1") for binary in (0, 1)]
VARIANT_IDS = [f"msh{v}-{'binary' if b else 'ascii'}" for v, b in VARIANTS]


def _name(version, binary, kind="mesh"):
    return f"{kind}_v{version}_{'binary' if binary else 'ascii'}.msh"


def _meshio_arrays(path, tmp_path):
    """Nodes, tetrahedra, their tags, triangles, their tags as meshio reads ``path``."""
    if path.suffix == ".gz":
        plain = tmp_path / path.stem
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        path = plain
    mesh = meshio.read(path, file_format="gmsh")
    out = [mesh.points]
    for cell_type, k in (("tetra", 4), ("triangle", 3)):
        blocks = [i for i, b in enumerate(mesh.cells) if b.type == cell_type]
        out.append(np.concatenate([mesh.cells[i].data for i in blocks] + [np.zeros((0, k), int)]))
        out.append(np.concatenate([mesh.cell_data["gmsh:physical"][i] for i in blocks] + [np.zeros(0, int)]))
    return out


def _assert_agrees_with_meshio(msh, path, tmp_path):
    nodes, tets, tet_tags, tris, tri_tags = _meshio_arrays(path, tmp_path)
    assert np.array_equal(msh.nodes, nodes)
    assert np.array_equal(msh.tetrahedra, tets) and np.array_equal(msh.tetrahedron_tags, tet_tags)
    assert np.array_equal(msh.triangles, tris) and np.array_equal(msh.triangle_tags, tri_tags)


def _assert_same_mesh(a, b):
    for key in ("nodes", "tetrahedra", "tetrahedron_tags", "triangles", "triangle_tags"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key


def _as_gmsh_prints(values):
    """``values`` as gmsh's ASCII files hold them: 16 significant digits, read back."""
    return np.vectorize(lambda x: float(f"{x:.16g}"))(values)


@pytest.fixture(scope="module")
def gmsh_files(tmp_path_factory):
    """Two balls (r 60 and 80 mm, physical volumes 3 and 5, outer sphere = physical surface
    1005) meshed and written by gmsh in every variant, plus what gmsh's API says the mesh is.

    Per variant: the mesh; the mesh with two views appended ($NodeData "x" = node x coordinate,
    $ElementData "tag" = the tetrahedron's tag in 3 components); with Mesh.SaveAll (points,
    lines and the untagged inner sphere too); and gzipped copies of the plain meshes.
    """
    folder = tmp_path_factory.mktemp("gmsh")
    with gmsh_session() as gmsh:
        inner, outer = gmsh.model.occ.addSphere(0, 0, 0, 60), gmsh.model.occ.addSphere(0, 0, 0, 80)
        gmsh.model.occ.fragment([(3, outer)], [(3, inner)])
        gmsh.model.occ.synchronize()
        small, big = sorted(gmsh.model.getEntities(3), key=lambda e: gmsh.model.occ.getMass(*e))
        gmsh.model.addPhysicalGroup(3, [small[1]], 3)
        gmsh.model.addPhysicalGroup(3, [big[1]], 5)
        outer_surface = max(gmsh.model.getEntities(2), key=lambda e: gmsh.model.occ.getMass(*e))
        gmsh.model.addPhysicalGroup(2, [outer_surface[1]], 1005)
        gmsh.option.setNumber("Mesh.MeshSizeMax", 20)
        gmsh.model.mesh.generate(3)
        expected = _gmsh_api_mesh(gmsh, outer_surface)
        tet_ids = np.concatenate([gmsh.model.mesh.getElements(*e)[1][0] for e in gmsh.model.getEntities(3)])
        node_view, tet_view = gmsh.view.add("x"), gmsh.view.add("tag")
        model = gmsh.model.getCurrent()
        gmsh.view.addHomogeneousModelData(node_view, 0, model, "NodeData", expected["node_ids"],
                                          expected["nodes"][:, 0])
        gmsh.view.addHomogeneousModelData(tet_view, 0, model, "ElementData", tet_ids,
                                          np.repeat(expected["tetrahedron_tags"], 3).astype(float),
                                          numComponents=3)
        gmsh.option.setNumber("PostProcessing.SaveMesh", 0)
        for version, binary in VARIANTS:
            gmsh.option.setNumber("Mesh.MshFileVersion", float(version))
            gmsh.option.setNumber("Mesh.Binary", binary)
            gmsh.write(str(folder / _name(version, binary)))
            with_data = str(folder / _name(version, binary, "data"))
            gmsh.write(with_data)
            gmsh.view.write(node_view, with_data, append=True)
            gmsh.view.write(tet_view, with_data, append=True)
        gmsh.option.setNumber("Mesh.SaveAll", 1)
        for version, binary in VARIANTS:
            gmsh.option.setNumber("Mesh.MshFileVersion", float(version))
            gmsh.option.setNumber("Mesh.Binary", binary)
            gmsh.write(str(folder / _name(version, binary, "all")))
    for version, binary in VARIANTS:
        plain = folder / _name(version, binary)
        plain.with_name(plain.name + ".gz").write_bytes(gzip.compress(plain.read_bytes()))
    return folder, expected


def _gmsh_api_mesh(gmsh, outer_surface):
    """The mesh as gmsh's API reports it, in the order gmsh writes files."""
    node_ids, coords, _ = gmsh.model.mesh.getNodes()
    row = np.zeros(int(node_ids.max()) + 1, dtype=np.int64)
    row[node_ids.astype(np.int64)] = np.arange(len(node_ids))
    tets, tags = [], []
    for dim, entity in gmsh.model.getEntities(3):
        conn = gmsh.model.mesh.getElements(dim, entity)[2][0].astype(np.int64).reshape(-1, 4)
        tets.append(row[conn])
        tags.append(np.full(len(conn), gmsh.model.getPhysicalGroupsForEntity(dim, entity)[0]))
    tris = gmsh.model.mesh.getElements(*outer_surface)[2][0].astype(np.int64).reshape(-1, 3)
    return {"node_ids": node_ids, "nodes": coords.reshape(-1, 3), "tetrahedra": np.concatenate(tets),
            "tetrahedron_tags": np.concatenate(tags), "triangles": row[tris],
            "triangle_tags": np.full(len(tris), 1005)}


# ------------------------------------------------------------------ agreement with meshio/gmsh

def test_element_sizes_match_gmsh():
    """The node counts the reader uses to skip element types are gmsh's own."""
    with gmsh_session() as gmsh:
        for etype, count in NODES_PER_ELEMENT.items():
            assert gmsh.model.mesh.getElementProperties(etype)[3] == count, etype


@pytest.mark.parametrize("relative", ["simnibs/sphere3.msh", "heads/charm_patch_r25/head_patch_r25.msh.gz"])
def test_simnibs_files_agree_with_meshio(shared_data, tmp_path, relative):
    path = data_file(shared_data, relative)
    msh = read_msh(path)
    _assert_agrees_with_meshio(msh, path, tmp_path)
    assert msh.tetrahedra.dtype == msh.triangles.dtype == msh.tetrahedron_tags.dtype == np.int64
    assert msh.nodes.dtype == np.float64 and msh.nodes.flags.c_contiguous


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(("version", "binary"), VARIANTS, ids=VARIANT_IDS)
def test_gmsh_written_variants(gmsh_files, tmp_path, version, binary, gz):
    """Each variant holds the mesh gmsh's API reports (ASCII: coordinates as gmsh prints them)
    and reads as meshio reads it."""
    folder, expected = gmsh_files
    path = folder / (_name(version, binary) + (".gz" if gz else ""))
    msh = read_msh(path)
    nodes = expected["nodes"] if binary else _as_gmsh_prints(expected["nodes"])
    assert np.array_equal(msh.nodes, nodes)
    for key in ("tetrahedra", "tetrahedron_tags", "triangles", "triangle_tags"):
        assert np.array_equal(getattr(msh, key), expected[key]), key
    assert sorted(set(msh.tetrahedron_tags.tolist())) == [3, 5]
    _assert_agrees_with_meshio(msh, path, tmp_path)


@pytest.mark.parametrize(("version", "binary"), VARIANTS, ids=VARIANT_IDS)
def test_gmsh_views_become_node_and_element_data(gmsh_files, version, binary):
    folder, _ = gmsh_files
    msh = read_msh(folder / _name(version, binary, "data"))
    _assert_same_mesh(msh, read_msh(folder / _name(version, binary)))
    assert np.array_equal(msh.node_data["x"], msh.nodes[:, 0])
    assert np.array_equal(msh.element_data["tag"], np.repeat(msh.tetrahedron_tags[:, None], 3, axis=1))
    assert msh.triangle_data["tag"].shape == (len(msh.triangles), 3)
    assert np.isnan(msh.triangle_data["tag"]).all()   # the view gives values on tetrahedra only


@pytest.mark.parametrize(("version", "binary"), VARIANTS, ids=VARIANT_IDS)
def test_other_element_types_are_skipped(gmsh_files, tmp_path, version, binary):
    """Mesh.SaveAll adds points, lines and the untagged inner sphere surface."""
    folder, _ = gmsh_files
    path, plain = folder / _name(version, binary, "all"), read_msh(folder / _name(version, binary))
    msh = read_msh(path)
    assert np.array_equal(msh.nodes, plain.nodes) and np.array_equal(msh.tetrahedra, plain.tetrahedra)
    assert len(msh.triangles) > len(plain.triangles)
    if version == "2.2":   # gmsh writes physical tag 0 for everything here; meshio agrees
        assert not msh.tetrahedron_tags.any()
        _assert_agrees_with_meshio(msh, path, tmp_path)
    else:                  # untagged entities fall back to their entity tag (meshio fails here)
        assert np.array_equal(msh.tetrahedron_tags, plain.tetrahedron_tags)
        assert set(msh.triangle_tags.tolist()) == {1005, 1}


def _msh22(node_ids, coords, elements, *, binary, endian="<"):
    """A hand-made MSH 2.2 file; ``elements`` are (id, type, tags, node ids) tuples."""
    out = [b"$MeshFormat\n2.2 %d 8\n" % binary]
    if binary:
        out.append(struct.pack(endian + "i", 1) + b"\n")
    out.append(b"$EndMeshFormat\n$Nodes\n%d\n" % len(node_ids))
    for i, xyz in zip(node_ids, coords):
        out.append(struct.pack(endian + "i3d", i, *xyz) if binary else b"%d %r %r %r\n" % (i, *xyz))
    out.append(b"\n$EndNodes\n$Elements\n%d\n" % len(elements))
    for eid, etype, tags, nodes in elements:
        if binary:
            values = (etype, 1, len(tags), eid, *tags, *nodes)
            out.append(struct.pack(f"{endian}{len(values)}i", *values))
        else:
            out.append(b" ".join(b"%d" % v for v in (eid, etype, len(tags), *tags, *nodes)) + b"\n")
    out.append(b"\n$EndElements\n")
    return b"".join(out)


HANDMADE_IDS = [70, 10, 30, 50, 20, 99]              # sparse and unsorted
HANDMADE_COORDS = [(0.1 * i, 1.0 / (i + 3), -2.5e-3 * i) for i in range(6)]
HANDMADE_ELEMENTS = [(1, 15, [7, 1], [70]),                          # point
                     (2, 1, [8, 2], [70, 10]),                       # line
                     (5, 4, [3, 9], [10, 30, 50, 20]),
                     (6, 6, [4, 9], [10, 30, 50, 20, 99, 70]),       # prism
                     (7, 2, [1003, 4, 0], [10, 30, 50]),             # three tags
                     (9, 4, [], [30, 50, 20, 99])]                   # no tags -> 0


@pytest.mark.parametrize("spread", [1, 10**7], ids=["dense-ids", "sparse-ids"])
@pytest.mark.parametrize(("binary", "endian"), [(0, "<"), (1, "<"), (1, ">")],
                         ids=["ascii", "binary-little-endian", "binary-big-endian"])
def test_unsorted_node_ids_and_skipped_types(tmp_path, binary, endian, spread):
    path = tmp_path / "handmade.msh"
    elements = [(eid, etype, tags, [spread * i for i in nodes]) for eid, etype, tags, nodes in HANDMADE_ELEMENTS]
    path.write_bytes(_msh22([spread * i for i in HANDMADE_IDS], HANDMADE_COORDS, elements,
                            binary=binary, endian=endian))
    msh = read_msh(path)
    assert np.array_equal(msh.nodes, HANDMADE_COORDS)
    assert msh.tetrahedra.tolist() == [[1, 2, 3, 4], [2, 3, 4, 5]]
    assert msh.tetrahedron_tags.tolist() == [3, 0]
    assert msh.triangles.tolist() == [[1, 2, 3]] and msh.triangle_tags.tolist() == [1003]


MSH41_HANDMADE = b"""$MeshFormat
4.1 0 8
$EndMeshFormat
$Comments
anything, even $Nodes
$EndComments
$Entities
0 0 1 1
7 0 0 0 1 1 1 0 0
9 0 0 0 1 1 1 1 42 1 7
$EndEntities
$Nodes
2 5 10 50
3 9 0 4
50
10
30
20
0 0 0
1 0 0
0 1 0
0 0 1
2 7 1 1
40
1 1 1 0.5 0.25
$EndNodes
$Elements
2 3 1 3
2 7 2 1
5 10 20 30
3 9 4 2
1 10 20 30 40
3 20 30 40 50
$EndElements
"""


def test_msh41_entities_parametric_nodes_and_tag_fallback(tmp_path):
    path = tmp_path / "handmade41.msh"
    path.write_bytes(MSH41_HANDMADE)
    msh = read_msh(path)
    assert msh.nodes.tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]
    assert msh.tetrahedra.tolist() == [[1, 3, 2, 4], [3, 2, 4, 0]]
    assert msh.tetrahedron_tags.tolist() == [42, 42]                 # physical group of volume 9
    assert msh.triangles.tolist() == [[1, 3, 2]] and msh.triangle_tags.tolist() == [7]  # no group


# ------------------------------------------------------------------------------ round trips

@pytest.fixture(scope="module")
def written(coarse_sphere, tmp_path_factory):
    """coarse_sphere in mm with its outer surface (tag 1005), written by write_msh with node and
    element data of every shape."""
    head, rng = coarse_sphere, np.random.default_rng(1)
    n, k, m = head.n_nodes, len(head.outer_surface()), head.n_tets
    surface = head.outer_surface()
    arrays = dict(nodes=head.nodes * 1e3, triangles=surface, triangle_tags=np.full(len(surface), 1005),
                  tetrahedra=head.tets, tetrahedron_tags=head.tags)
    node_data = {"v": rng.normal(size=n), "E_nodes": rng.normal(size=(n, 3))}
    element_data = {"magnE": rng.normal(size=m), "E": rng.normal(size=(m, 3)),
                    "sigma": rng.normal(size=(m, 3, 3)), "everywhere": rng.normal(size=k + m)}
    path = tmp_path_factory.mktemp("written") / "sphere.msh"
    write_msh(path, **arrays, node_data=node_data, element_data=element_data)
    return path, arrays, node_data, element_data


def test_write_read_round_trip(written):
    path, arrays, node_data, element_data = written
    msh = read_msh(path)
    assert np.array_equal(msh.nodes, arrays["nodes"])
    for key in ("tetrahedra", "tetrahedron_tags", "triangles", "triangle_tags"):
        assert np.array_equal(getattr(msh, key), arrays[key]), key
    for name, values in node_data.items():
        assert np.array_equal(msh.node_data[name], values)
    k = len(arrays["triangles"])
    for name in ("magnE", "E", "sigma"):     # given on tetrahedra: triangles get zeros
        values = element_data[name].reshape(len(element_data[name]), -1).squeeze()
        assert np.array_equal(msh.element_data[name], values), name
        assert not msh.triangle_data[name].any()
    assert np.array_equal(msh.triangle_data["everywhere"], element_data["everywhere"][:k])
    assert np.array_equal(msh.element_data["everywhere"], element_data["everywhere"][k:])


def test_written_file_reads_in_meshio(written, tmp_path):
    """meshio 5.3 cannot split $ElementData over more than one cell block (it fails on its own
    files too), so element data are checked on a tetrahedra-only file."""
    _, arrays, node_data, element_data = written
    path = tmp_path / "mesh.msh"
    write_msh(path, **arrays, node_data=node_data)
    mesh = meshio.read(path)
    assert np.array_equal(mesh.points, arrays["nodes"])
    assert [b.type for b in mesh.cells] == ["triangle", "tetra"]
    assert np.array_equal(mesh.cells[0].data, arrays["triangles"])
    assert np.array_equal(mesh.cells[1].data, arrays["tetrahedra"])
    for key in ("gmsh:physical", "gmsh:geometrical"):
        assert np.array_equal(mesh.cell_data[key][0], arrays["triangle_tags"])
        assert np.array_equal(mesh.cell_data[key][1], arrays["tetrahedron_tags"])
    for name, values in node_data.items():
        assert np.array_equal(mesh.point_data[name], values)
    on_tets = {name: element_data[name] for name in ("magnE", "E", "sigma")}
    write_msh(path, arrays["nodes"], tetrahedra=arrays["tetrahedra"],
              tetrahedron_tags=arrays["tetrahedron_tags"], element_data=on_tets)
    mesh = meshio.read(path)
    for name in on_tets:
        assert np.array_equal(mesh.cell_data[name][0], element_data[name].reshape(len(mesh.cells[0]), -1).squeeze())


def test_write_is_atomic(coarse_sphere, tmp_path, monkeypatch):
    path = tmp_path / "result.msh"
    path.write_bytes(b"previous result")

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(gmsh_msh, "_write_data", fail)
    with pytest.raises(OSError, match="disk full"):
        write_msh(path, coarse_sphere.nodes, tetrahedra=coarse_sphere.tets,
                  tetrahedron_tags=coarse_sphere.tags, node_data={"v": np.zeros(coarse_sphere.n_nodes)})
    assert path.read_bytes() == b"previous result" and [p.name for p in tmp_path.iterdir()] == ["result.msh"]


def test_write_rejects_bad_arrays(coarse_sphere, tmp_path):
    head = coarse_sphere
    with pytest.raises(MeshError, match="outside"):
        write_msh(tmp_path / "x.msh", head.nodes, tetrahedra=head.tets + head.n_nodes, tetrahedron_tags=head.tags)
    with pytest.raises(tf.TmsFieldError, match="'bad'"):
        write_msh(tmp_path / "x.msh", head.nodes, tetrahedra=head.tets, tetrahedron_tags=head.tags,
                  element_data={"bad": np.zeros((head.n_tets, 2))})
    assert not (tmp_path / "x.msh").exists()


def test_write_mesh_and_load_tensors_use_the_native_msh_path(coarse_sphere, tmp_path):
    sigma = np.random.default_rng(2).normal(size=(coarse_sphere.n_tets, 3, 3))
    path = tmp_path / "dti.msh"
    write_mesh(to_meshio(coarse_sphere, units="mm", cell_data={"sigma": sigma.reshape(-1, 9)}), path)
    assert np.array_equal(load_tensors(path, coarse_sphere.n_tets), sigma)
    head = tf.load_head(path)
    assert np.array_equal(head.tets, coarse_sphere.tets) and np.array_equal(head.tags, coarse_sphere.tags)
    lines = meshio.Mesh(coarse_sphere.nodes, [("line", np.array([[0, 1]]))])
    with pytest.raises(FileFormatError, match="triangles and tetrahedra only"):
        write_mesh(lines, tmp_path / "lines.msh")


# ---------------------------------------------------------------------------------- errors

def _raises(path, section, *patterns):
    """read_msh and load_head both raise FileFormatError naming the file, section, patterns."""
    for read in (read_msh, tf.load_head):
        with pytest.raises(FileFormatError) as info:
            read(path)
        message = str(info.value)
        assert path.name in message and f"${section}" in message, message
        for pattern in patterns:
            assert re.search(pattern, message), (pattern, message)


def _section_body(raw, name):
    """Byte range of the body of section ``name``."""
    start = raw.index(f"${name}\n".encode()) + len(name) + 2
    return start, raw.index(f"$End{name}".encode(), start)


@pytest.fixture(scope="module")
def sources(written, gmsh_files):
    """A file of each encoding: ours (2.2 binary, one block per element type) and gmsh's (its
    2.2 binary has one block per element)."""
    folder, _ = gmsh_files
    return {"ours-2.2-binary": written[0], "gmsh-2.2-binary": folder / _name("2.2", 1),
            "gmsh-2.2-ascii": folder / _name("2.2", 0),
            "gmsh-4.1-ascii": folder / _name("4.1", 0), "gmsh-4.1-binary": folder / _name("4.1", 1)}


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
@pytest.mark.parametrize(("section", "unit"), [("Nodes", "nodes"), ("Elements", "elements")])
@pytest.mark.parametrize("source", ["ours-2.2-binary", "gmsh-2.2-binary", "gmsh-2.2-ascii", "gmsh-4.1-ascii",
                                    "gmsh-4.1-binary"])
def test_truncated_sections(sources, tmp_path, source, section, unit, fraction):
    raw = sources[source].read_bytes()
    start, end = _section_body(raw, section)
    path = tmp_path / "cut.msh"
    path.write_bytes(raw[:start + int(fraction * (end - start))])
    _raises(path, section, rf"ends after \d+ of \d+ {unit}", "truncated")


def test_truncation_counts_complete_items(written, tmp_path):
    raw = written[0].read_bytes()
    start, _ = _section_body(raw, "Nodes")
    header = raw.index(b"\n", start) + 1
    path = tmp_path / "cut.msh"
    path.write_bytes(raw[:header + 28 * 100 + 5])      # 100 nodes of 28 bytes and a bit
    _raises(path, "Nodes", r"after 100 of \d+ nodes")


def test_corrupt_element_node_id(sources, tmp_path):
    raw = sources["ours-2.2-binary"].read_bytes()
    start, _ = _section_body(raw, "Elements")
    first_block = raw.index(b"\n", start) + 1
    n_triangles = struct.unpack_from("<3i", raw, first_block)[1]
    first_tet_node = first_block + 12 + 24 * n_triangles + 12 + 12
    bad = tmp_path / "bad_node.msh"
    bad.write_bytes(raw[:first_tet_node] + struct.pack("<i", 123456789) + raw[first_tet_node + 4:])
    _raises(bad, "Elements", rf"tetrahedron {n_triangles + 1} names node id 123456789")

    text = sources["gmsh-2.2-ascii"].read_bytes()
    end = text.index(b"\n$EndElements")
    last = text.rindex(b"\n", 0, end) + 1                 # the last element's line
    bad_ascii = tmp_path / "bad_node_ascii.msh"
    bad_ascii.write_bytes(text[:last] + b" ".join(text[last:end].split()[:-1] + [b"99999"]) + text[end:])
    _raises(bad_ascii, "Elements", "names node id 99999")
    bad_ascii.write_bytes(text[:end] + b" 7" + text[end:])
    line = text.count(b"\n", 0, end) + 1
    _raises(bad_ascii, "Elements",
            rf"1 value\(s\) more than the \d+ elements the header announces \(from line {line}\)")
    bad_ascii.write_bytes(text[:last] + b"7 " + text[last:])
    _raises(bad_ascii, "Elements", rf"unknown element type \d+ at line {line}")


@pytest.mark.parametrize("version", [b"1.0", b"3.0", b"4.0", b"4", b"x"])
def test_unsupported_version(sources, tmp_path, version):
    raw = sources["gmsh-2.2-ascii"].read_bytes().replace(b"2.2 0 8", version + b" 0 8", 1)
    path = tmp_path / "old.msh"
    path.write_bytes(raw)
    _raises(path, "MeshFormat", "not supported", "gmsh old.msh -save -format msh22")


@pytest.mark.parametrize("source", ["ours-2.2-binary", "gmsh-2.2-ascii", "gmsh-4.1-ascii", "gmsh-4.1-binary"])
def test_missing_end_marker(sources, tmp_path, source):
    path = tmp_path / "no_end.msh"
    path.write_bytes(sources[source].read_bytes().replace(b"$EndElements\n", b""))
    _raises(path, "Elements", r"\$EndElements")


def test_malformed_ascii_values(sources, tmp_path):
    raw = sources["gmsh-2.2-ascii"].read_bytes()
    start, end = _section_body(raw, "Nodes")
    first_node = raw.index(b"\n", start) + 1
    x = first_node + raw[first_node:].index(b" ") + 1        # the first node's x coordinate
    x_end = x + raw[x:].index(b" ")
    path = tmp_path / "bad_values.msh"
    path.write_bytes(raw[:x] + b"1.2.3" + raw[x_end:])
    _raises(path, "Nodes", r"'1\.2\.3' at line \d+ is not a number")
    path.write_bytes(raw[:x] + b"nan" + raw[x_end:])
    _raises(path, "Nodes", "node 1 has a non-finite coordinate")
    path.write_bytes(raw[:first_node] + b"1.5" + raw[first_node + 1:])
    _raises(path, "Nodes", "node ids must be integers, found 1.5")
    second_node = raw.index(b"\n", first_node) + 1
    path.write_bytes(raw[:second_node] + b"1" + raw[second_node + 1:])
    _raises(path, "Nodes", "node id 1 occurs twice")
    count = raw[start:first_node].strip()
    path.write_bytes(raw[:start] + b"%d\n" % (int(count) + 5) + raw[first_node:])
    _raises(path, "Nodes", rf"holds {int(count)} of the {int(count) + 5} nodes", "do not match")


def test_malformed_binary_headers(sources, tmp_path):
    raw = sources["ours-2.2-binary"].read_bytes()
    path = tmp_path / "bad_header.msh"
    path.write_bytes(raw.replace(struct.pack("<i", 1) + b"\n$EndMeshFormat", b"\x07\0\0\0\n$EndMeshFormat", 1))
    _raises(path, "MeshFormat", "endianness marker")
    start, _ = _section_body(raw, "Elements")
    first_block = raw.index(b"\n", start) + 1
    path.write_bytes(raw[:first_block] + struct.pack("<i", 1000) + raw[first_block + 4:])
    _raises(path, "Elements", "unknown element type 1000")


def test_element_data_for_an_unknown_element(tmp_path):
    text = MSH41_HANDMADE + b'$ElementData\n1\n"E"\n1\n0\n3\n0\n1\n2\n1 0.5\n77 1.5\n$EndElementData\n'
    path = tmp_path / "data.msh"
    path.write_bytes(text)
    _raises(path, "ElementData", "'E' gives a value for element id 77")
    path.write_bytes(text.replace(b"77 1.5", b"5 1.5"))
    msh = read_msh(path)
    assert np.array_equal(msh.element_data["E"], [0.5, np.nan], equal_nan=True)
    assert msh.triangle_data["E"].tolist() == [1.5]


def test_not_a_mesh_and_bad_gzip(written, tmp_path):
    path = tmp_path / "nodes_first.msh"
    path.write_bytes(b"$Nodes\n0\n$EndNodes\n")
    with pytest.raises(FileFormatError, match=r"nodes_first\.msh: no \$MeshFormat"):
        read_msh(path)
    packed = gzip.compress(written[0].read_bytes())
    path = tmp_path / "cut.msh.gz"
    path.write_bytes(packed[: len(packed) // 2])
    for read in (read_msh, tf.load_head):
        with pytest.raises(FileFormatError, match=r"cut\.msh\.gz: not a readable gzip file"):
            read(path)
