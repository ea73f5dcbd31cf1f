"""P1 FEM against the analytic sphere field, plus result plumbing.

Tolerances come from validation/results/fem_sphere.md (P1, 3-layer sphere, 60–80 mm
shell): on the 8 mm gmsh mesh (48.6k tetrahedra, mean edge 9.0 mm) the P1 element-field error
is 6.7 % (tilted dipole) and 7.1 % (figure-8), the SPR-recovered field 3.4 % and 2.3 %. Limits
below add ~15 % for gmsh-version mesh variation.
"""
import meshio
import numpy as np
import pytest
from conftest import data_file

import tmsfield as tf
from tmsfield.core.errors import FileFormatError, MeshError, PlacementError
from tmsfield.validation.analytic import relative_l2, sphere_e_field
from tmsfield.validation.fem_sphere_study import errors, shell_errors, sources


@pytest.fixture(scope="module")
def head_8mm():
    return tf.head_models.concentric_spheres(edge_length=0.008)


@pytest.fixture(scope="module")
def fem_8mm(head_8mm):
    return tf.FieldSolver(head_8mm, order=1)


@pytest.mark.parametrize("source,max_element,max_recovered", [
    ("tilted dipole", 0.077, 0.040), ("figure-8 (dipole model)", 0.081, 0.027)])
def test_p1_matches_analytic_sphere(head_8mm, fem_8mm, source, max_element, max_recovered):
    coil, pose = sources()[source]
    err = shell_errors(head_8mm, fem_8mm.solve(coil, pose), coil, pose)
    assert err["element"] < max_element and err["recovered"] < max_recovered
    # and the secondary field matters: the primary field alone is far off
    r = np.linalg.norm(head_8mm.centroids, axis=1)
    sel = (r > 0.06) & (r < 0.08)
    placed = coil.transformed(pose.matrix)
    ref = sphere_e_field(head_8mm.centroids[sel], placed.dipole_positions, placed.dipole_moments, 1e6)
    assert relative_l2(-coil.dadt(head_8mm.centroids[sel], pose, didt=1e6), ref) > 3 * max_element


@pytest.mark.parametrize("source,max_shell,max_interfaces", [
    ("tilted dipole", 0.0033, 0.0069), ("figure-8 (dipole model)", 0.0017, 0.0043)])
@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_p2_matches_analytic_sphere(head_8mm, source, max_shell, max_interfaces):
    """Study (8 mm mesh, P2): shell 0.29 % / 0.145 %, within 2 mm of the interfaces
    0.60 % / 0.38 %; limits +15 %. P1 on the same mesh: 6.7 % / 7.1 %."""
    coil, pose = sources()[source]
    err = errors(head_8mm, tf.FieldSolver(head_8mm, order=2).solve(coil, pose), coil, pose)
    assert err["shell element"] < max_shell and err["interfaces element"] < max_interfaces


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
@pytest.mark.parametrize("order,limit", [(1, 0.107), (2, 0.0036)])
def test_simnibs_sphere3_within_predicted_error(shared_data, order, limit):
    """SimNIBS' own sphere mesh (mean edge 10.8 mm): the study predicts P1 ≈ 9.3 % from the
    gmsh mesh of the same edge length (measured 8.5 %) and measures P2 0.31 %; limits +15 %."""
    head = tf.load_head(data_file(shared_data, "simnibs/sphere3.msh"))
    coil, pose = sources()["figure-8 (dipole model)"]
    err = shell_errors(head, tf.simulate(head, coil, pose, didt=1e6, order=order), coil, pose)
    assert err["element"] < limit


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
@pytest.mark.parametrize("primary_load", ["dofs", "rule"])
def test_simnibs_sphere3_held_out_tilted_dipole_25_mm_above(shared_data, primary_load):
    """The issue's held-out-style check: SimNIBS' sphere3.msh, a tilted dipole 25 mm above the
    scalp, P2 within 0.5 % (the issue's bar; measured shell / inner sphere 0.387 / 0.408 % with
    the interpolated load, 0.371 / 0.396 % with the primary field at the load rule's points,
    validation/results/fem_primary_load.md)."""
    from tmsfield.solver.options import FEMOptions
    from tmsfield.validation.fem_primary_load import cases
    head = tf.load_head(data_file(shared_data, "simnibs/sphere3.msh"))
    coil, pose = cases()["tilted dipole 25 mm above"]
    solver = tf.FieldSolver(head, options=FEMOptions(order=2, primary_load=primary_load))
    err = errors(head, solver.solve(coil, pose, didt=1e6), coil, pose)
    assert max(err["shell element"], err["inner sphere element"]) < 0.005, err


@pytest.mark.parametrize("order", [1, 2])
def test_load_at_rule_points_equals_interpolated_load_for_polynomial_fields(coarse_sphere, order):
    """Where the P_p interpolant of ∂A/∂t is exact (a degree-p field) the two loads integrate the
    same function by rules exact for it: they agree to round-off. A cubic field tells them apart."""
    from tmsfield.solver.fem import assembly
    from tmsfield.solver.fem.space import FunctionSpace
    head = coarse_sphere
    space = FunctionSpace.on(head, order)
    d = assembly.Discretisation.on(space, head, head.conductivity())
    rule_points = assembly.load_points(d, head.nodes[head.tets])

    def loads(field):
        return (assembly.load_vector(d, field(space.dof_points)), assembly.load_vector_at_rule(d, field(rule_points)))

    def polynomial(x):
        x, y, z = (x / 0.09).T
        return np.column_stack([1 + y - z, 0.3 * x + 2 * z, -x]) if order == 1 else \
            np.column_stack([x * y + z, y * y - x * z, 0.5 * x * x + y * z])

    dofs, rule = loads(polynomial)
    assert np.allclose(rule, dofs, rtol=0, atol=1e-12 * np.abs(dofs).max())
    dofs, rule = loads(lambda x: polynomial(x) * (x[:, :1] / 0.09) ** 2)
    assert np.abs(rule - dofs).max() > 1e-4 * np.abs(dofs).max()


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_field_is_linear_in_didt_and_conductivity_scale(coarse_sphere):
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    a = tf.simulate(coarse_sphere, coil, pose, didt=1e6)
    b = tf.simulate(coarse_sphere, coil, pose, didt=2.5e6,
                    conductivities={t: 3 * s for t, s in {3: 1.654, 4: 0.010, 5: 0.465}.items()})
    assert np.allclose(b.E, 2.5 * a.E, rtol=1e-6, atol=1e-8 * np.abs(a.E).max())


@pytest.mark.parametrize("order", [1, 2])
def test_stiffness_and_solution_match_scikit_fem(coarse_sphere, order):
    """Same mesh, same tags: our P1/P2 stiffness equals scikit-fem's (DOFs matched by
    position), and so does the potential for the same right-hand side (round-off)."""
    skfem = pytest.importorskip("skfem")
    from scipy.spatial import cKDTree
    from skfem.helpers import dot, grad

    from tmsfield.solver.fem import assembly
    from tmsfield.solver.fem.linear import GroundedAMGSolver
    from tmsfield.solver.fem.space import FunctionSpace
    head = coarse_sphere
    sigma = head.conductivity()
    space = FunctionSpace.on(head, order)
    ours = assembly.stiffness(assembly.Discretisation.on(space, head, sigma))
    element = skfem.ElementTetP1() if order == 1 else skfem.ElementTetP2()
    basis = skfem.Basis(skfem.MeshTet(head.nodes.T, head.tets.T), element, intorder=2 * order)

    @skfem.BilinearForm
    def laplace(u, v, w):
        return w["sigma"] * dot(grad(u), grad(v))

    theirs = laplace.assemble(basis, sigma=np.repeat(sigma[:, None], basis.X.shape[-1], axis=1)).tocsr()
    dist, perm = cKDTree(space.dof_points).query(basis.doflocs.T)
    assert dist.max() < 1e-12
    ours = ours[perm][:, perm]
    assert abs(ours - theirs).max() < 1e-12 * abs(theirs).max()
    rhs = np.random.default_rng(0).normal(size=space.n_dofs)
    rhs -= rhs.mean()
    phi, _ = GroundedAMGSolver(ours, tol=1e-12).solve(rhs[perm])
    phi_sk = skfem.solve(*skfem.condense(theirs, rhs[perm], D=np.array([0])))
    assert np.abs(phi - phi_sk).max() < 1e-8 * np.abs(phi_sk).max()


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_sample_and_save(coarse_sphere, tmp_path):
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    c = coarse_sphere.centroids[:50]
    p1 = tf.simulate(coarse_sphere, coil, pose, order=1)
    assert np.allclose(p1.sample(c, interpolation="native"), p1.E[:50])
    assert np.allclose(p1.sample(c), p1.E_corners[:50].mean(axis=1))      # auto = recovered for P1
    res = tf.simulate(coarse_sphere, coil, pose)                           # P2 by default
    assert res.provenance["solver"]["order"] == 2
    assert np.allclose(res.sample(c, interpolation="element"), res.E[:50])
    assert np.array_equal(res.sample(c), res.sample(c, interpolation="native"))
    recovered = res.sample(coarse_sphere.nodes[:20] * 0.999 + 1e-9)
    assert np.isfinite(recovered).all()
    assert np.isnan(res.sample([[0.5, 0, 0]])).all()
    res.save(tmp_path / "f.msh")
    mesh = meshio.read(tmp_path / "f.msh")
    tetra = [i for i, b in enumerate(mesh.cells) if b.type == "tetra"][0]
    assert np.allclose(mesh.cell_data["magnE"][tetra], res.magnE)
    assert np.isclose(np.ptp(mesh.points[:, 2]), 190, rtol=0.01)  # SimNIBS files are in mm
    assert set(mesh.point_data) >= {"v"} and "E" in mesh.cell_data
    res.save(tmp_path / "f.vtu")
    res.save(tmp_path / "f.npz")
    assert np.allclose(np.load(tmp_path / "f.npz")["E"], res.E)
    with pytest.raises(FileFormatError, match="unsupported"):
        res.save(tmp_path / "f.xyz")
    assert not (tmp_path / "f.xyz").exists()
    assert "grey" not in res.summary() and "scalp" in res.summary()


def test_unknown_tag_stops_simulate():
    head = tf.HeadMesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]) * 0.05, [[0, 1, 2, 3]], [77])
    pose = tf.CoilPose.from_axes([0, 0, 0.07], [0, 0, -1], [0, 1, 0])
    with pytest.raises(MeshError, match="77"):
        tf.simulate(head, tf.coils.figure8(model="dipoles"), pose)


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_solve_many_reuses_setup_and_matches_single_solves(coarse_sphere):
    coil = tf.coils.figure8(model="dipoles")
    poses = [tf.CoilPose.on_head(coarse_sphere, center=c, handle=(0, 1, 0))
             for c in [(0, 0, 0.095), (0.05, 0, 0.08), (0, -0.06, 0.07)]]
    solver = tf.FieldSolver(coarse_sphere)
    one_by_one = solver.solve_many(coil, poses, warm_start=False, batch_size=1, verbose=False)
    block = solver.solve_many(coil, poses, verbose=False)
    recycled = solver.solve_many(coil, poses, batch_size=2, verbose=False)
    for pose, a, b, c in zip(poses, one_by_one, block, recycled):
        single = solver.solve(coil, pose).E
        # all stop at relative residual 1e-8; the fields then agree far below FEM error
        for batched in (a, b, c):
            assert np.abs(batched.E - single).max() < 1e-5 * np.abs(single).max()
    assert not np.allclose(block[0].E, block[1].E)
    assert block[0].provenance["solver"]["residual"] < 1e-8


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_block_cg_solves_every_column_in_fewer_iterations(coarse_sphere):
    """Block CG against one-column CG on the same system: equal, zero and distinct columns."""
    solver = tf.FieldSolver(coarse_sphere)
    be = solver.be                                           # the CPU, or the device emulation
    coil = tf.coils.figure8(model="dipoles")
    rhs = [be.to_numpy(solver._load(solver._primary(coil, tf.CoilPose.on_head(coarse_sphere, center=c), 1e6, "auto",
                                                    None, {})))
           for c in [(0, 0, 0.095), (0.05, 0, 0.08), (0, -0.06, 0.07)]]
    B = np.column_stack([rhs[0], rhs[1], rhs[0], np.zeros_like(rhs[0]), rhs[2]])
    phi, infos = solver.linear.solve_block(be.asarray(B))
    phi = be.to_numpy(phi)
    singles = [(be.to_numpy(x), info) for x, info in (solver.linear.solve(be.asarray(b)) for b in B.T)]
    for column, (single, _) in zip(phi.T, singles):
        scale = max(np.abs(single).max(), 1e-30)
        assert np.abs(column - single).max() < 1e-6 * scale      # both at relative residual 1e-8
    assert np.array_equal(phi[:, 3], np.zeros(len(phi)))
    assert infos[0].iterations < max(info.iterations for _, info in singles)


@pytest.mark.usefixtures("solver_backend")   # also through the device emulation
def test_solve_many_with_several_coils_and_bad_poses(coarse_sphere):
    solver = tf.FieldSolver(coarse_sphere)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    coils = [tf.coils.figure8(model="dipoles"), tf.coils.figure8(model="dipoles", wing_angle=20)]
    res = solver.solve_many(coils, [pose, pose.matrix], verbose=False)
    assert not np.allclose(res[0].E, res[1].E)
    bad = pose.matrix.copy()
    bad[0, 3] = np.nan
    with pytest.raises(PlacementError, match=r"poses\[1\].*finite"):
        solver.solve_many(coils[0], [pose, bad], verbose=False)


def test_saved_msh_opens_in_gmsh_with_field_views(coarse_sphere, tmp_path):
    """SimNIBS-style output: gmsh itself reads the mesh and turns E/magnE/J/magnJ/v into views."""
    import gmsh
    res = tf.simulate(coarse_sphere, tf.coils.figure8(model="dipoles"),
                      tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095)), order=1)
    res.save(tmp_path / "field.msh")
    gmsh.initialize()
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.open(str(tmp_path / "field.msh"))
        names = {gmsh.option.getString(f"View[{gmsh.view.getIndex(t)}].Name") for t in gmsh.view.getTags()}
        _, _, tets = gmsh.model.mesh.getElements(3)
    finally:
        gmsh.finalize()
    assert {"E", "magnE", "J", "magnJ", "v"} <= names
    assert sum(len(t) for t in tets) == 4 * coarse_sphere.n_tets
