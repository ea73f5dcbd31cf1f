import numpy as np
import pytest
import scipy.io
from conftest import data_file

from tmsfield.core.errors import MeshError
from tmsfield.head_models.from_surfaces import from_surfaces


def _sphere_surface(head):
    """The outer surface of a sphere mesh as (vertices, faces) with compact indices."""
    faces = head.outer_surface()
    used, inverse = np.unique(faces, return_inverse=True)
    return head.nodes[used], inverse.reshape(-1, 3)


def test_nested_surfaces_fill_with_exact_enclosed_volumes(coarse_sphere):
    v, f = _sphere_surface(coarse_sphere)
    head = from_surfaces([(0.8 * v, f), (v, f)], tags=(3, 5))
    assert head.tissue_tags == [3, 5]

    def enclosed(vertices):
        p = vertices[f]
        return np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6

    # the tetrahedra fill exactly the polyhedra bounded by the given triangles
    assert np.isclose(head.volumes[head.tags == 3].sum(), enclosed(0.8 * v), rtol=1e-9)
    assert np.isclose(head.volumes.sum(), enclosed(v), rtol=1e-9)


def test_intersecting_surfaces_are_refused(coarse_sphere):
    v, f = _sphere_surface(coarse_sphere)
    with pytest.raises(MeshError, match="surfaces 0 and 1 intersect or are not nested"):
        from_surfaces([(0.8 * v + [0.03, 0, 0], f), (v, f)], tags=(3, 5))


def test_three_shell_head(shared_data):
    path = data_file(shared_data, "heads/wh_sub01_3shell/hbf_samplehead_3shell_wh.mat")
    mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    head = from_surfaces([(b.p, b.e - 1) for b in mat["bmeshes"]], tags=(2, 4, 5))
    cm3 = {t: 1e6 * head.volumes[head.tags == t].sum() for t in (2, 4, 5)}
    # enclosed volumes from SOURCE.txt: 1560.3, 1873.8, 3208.8 cm³
    assert np.isclose(cm3[2], 1560.3, atol=0.1)
    assert np.isclose(cm3[4], 1873.8 - 1560.3, atol=0.2)
    assert np.isclose(cm3[5], 3208.8 - 1873.8, atol=0.2)
