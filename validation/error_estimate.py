"""The FEM error estimates against the true error on spheres (analytic field).

    python -m tmsfield.validation.error_estimate

Three-layer sphere (85/90/95 mm), figure-8 magnetic-shell model (8 mm cells: the analytic
field of Heller & van Hulsteyn 1992 is exact for the same dipoles) 4 mm above the top, P1
(recovery-based estimate) at 8, 6 and 4 mm mesh edges and P2 (hierarchical estimate) at 10, 8,
6 and 4 mm. True error: relative L2 of the solver's own field against the analytic one, both at
the degree-2 rule's points of every element; estimate: the result's ``error_estimate``
(solver/results/error_estimate.py); effectivity = estimate / true; and the correlation of log
per-element estimate with log per-element true error. A second P2 table uses a problem whose
discrete solution is known exactly on the mesh itself (∂A/∂t = ∇ψ, ψ a cubic: E = 0, the
potential −ψ), free of the sphere's geometric error. Writes validation/results/error_estimate.md.
"""
from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

import tmsfield as tf
from tmsfield.core.files import write_text_atomic
from tmsfield.solver.fem.elements import DEGREE2
from tmsfield.validation.analytic import sphere_e_field

OUT = Path(__file__).resolve().parent / "results" / "error_estimate.md"
P1_EDGES_MM = (8, 6, 4)
P2_EDGES_MM = (10, 8, 6, 4)
KNOWN_EDGES_MM = (12, 8, 6)


def true_error(result, coil, pose) -> tuple[float, np.ndarray]:
    """(relative L2 error of the native field, per-element RMS error (M,) V/m) against the analytic field."""
    head, rule = result.head, DEGREE2
    m, q = head.n_tets, len(rule.weights)
    element, bary = np.repeat(np.arange(m), q), np.tile(rule.points, (m, 1))
    points = np.einsum("pc,pcd->pd", bary, head.nodes[head.tets[element]])
    placed = coil.transformed(pose.matrix)
    exact = sphere_e_field(points, placed.dipole_positions, placed.dipole_moments, didt=result.didt[0])
    err2 = ((result.native(points, element, bary) - exact) ** 2).sum(axis=1).reshape(m, q) @ rule.weights
    ref2 = (exact ** 2).sum(axis=1).reshape(m, q) @ rule.weights
    return float(np.sqrt((head.volumes * err2).sum() / (head.volumes * ref2).sum())), np.sqrt(err2)


def study(order: int, edges_mm) -> list[dict]:
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    rows = []
    for edge in edges_mm:
        head = tf.head_models.concentric_spheres(radii=(0.085, 0.09, 0.095), tags=(3, 4, 5), edge_length=1e-3 * edge)
        pose = tf.CoilPose.on_head(head, center=(0, 0, 0.095))
        result = tf.simulate(head, coil, pose, didt=1e6, order=order, verbose=False)
        started = time.perf_counter()
        estimate = result.error_estimate
        seconds = time.perf_counter() - started
        true, per_element = true_error(result, coil, pose)
        corr = np.corrcoef(np.log(estimate.per_element + 1e-30), np.log(per_element + 1e-30))[0, 1]
        rows.append({"edge_mm": edge, "n_tets": head.n_tets, "true": true, "estimate": estimate.relative,
                     "effectivity": estimate.relative / true, "log_correlation": float(corr),
                     "estimate_s": seconds, "solve_s": sum(result.timings.values())})
        print(rows[-1], flush=True)
    return rows


def gradient_of_cubic(points: np.ndarray, scale: float = 0.09) -> np.ndarray:
    """∇ψ (P, 3) in 1/m of ψ = x³ + xyz + y² with (x, y, z) = points/scale: a quadratic field
    that the P2 space interpolates exactly."""
    x, y, z = (points / scale).T
    return np.column_stack([3 * x ** 2 + y * z, x * z + 2 * y, x * y]) / scale


def known_solution_study(edges_mm) -> list[dict]:
    """P2 on the layered sphere with ∂A/∂t = ∇ψ (ψ = x³ + xyz + y² in units of 90 mm): the exact
    solution on any mesh is φ = −ψ, E = 0, so the true error is ‖E_h‖ with no geometric error."""
    from tmsfield.solver.fem import assembly
    from tmsfield.solver.fem.hierarchical_estimate import element_errors
    from tmsfield.solver.fem.linear import GroundedAMGSolver
    from tmsfield.solver.fem.space import FunctionSpace
    rows = []
    for edge in edges_mm:
        head = tf.head_models.concentric_spheres(radii=(0.085, 0.09, 0.095), tags=(3, 4, 5), edge_length=1e-3 * edge)
        sigma, space = head.conductivity(), FunctionSpace.on(head, 2)
        d = assembly.Discretisation.on(space, head, sigma)
        dadt = gradient_of_cubic(space.dof_points)
        solver = GroundedAMGSolver(assembly.stiffness(d, ground=0), ground=0, tol=1e-11,
                                   coarse=space.prolongation_from_p1())
        load = assembly.load_vector(d, dadt)
        load[0] = 0.0
        phi = np.asarray(solver.solve(load)[0])
        m, q = head.n_tets, len(DEGREE2.weights)
        field = assembly.field_at(d, phi, dadt, np.tile(DEGREE2.points, (m, 1)), np.repeat(np.arange(m), q))
        true2 = ((field ** 2).sum(axis=1).reshape(m, q) @ DEGREE2.weights)
        eta = element_errors(head, space, sigma, phi, dadt)
        true, estimate = (np.sqrt(head.volumes @ v) for v in (true2, eta ** 2))
        corr = np.corrcoef(np.log(eta + 1e-30), 0.5 * np.log(true2 + 1e-60))[0, 1]
        rows.append({"edge_mm": edge, "n_tets": m, "true_V_per_m_sqrt_m3": true, "effectivity": estimate / true,
                     "log_correlation": float(corr)})
        print(rows[-1], flush=True)
    return rows


def main():
    lines = ["# FEM error estimates vs the true error (3-layer sphere 85/90/95 mm, figure-8 4 mm above)", "",
             f"`python -m tmsfield.validation.error_estimate` — {platform.machine()}, 2-core VM, Python "
             f"{platform.python_version()}. P1: recovery-based (Zienkiewicz-Zhu); P2: hierarchical basis "
             "(cubic surplus, diagonally scaled). Times indicative (a second job shared the machine).", ""]
    header = ["| P | edge (mm) | tetrahedra | true rel. L2 | estimate | effectivity | log-correlation per element | "
              "estimate (s) | simulate (s) |", "|" + "---|" * 9]
    lines += header
    for order, edges in ((1, P1_EDGES_MM), (2, P2_EDGES_MM)):
        for r in study(order, edges):
            lines.append(f"| {order} | {r['edge_mm']} | {r['n_tets']} | {r['true']:.4f} | {r['estimate']:.4f} | "
                         f"{r['effectivity']:.2f} | {r['log_correlation']:.2f} | {r['estimate_s']:.2f} | "
                         f"{r['solve_s']:.1f} |")
    lines += ["", "P2 with a discrete solution known exactly on each mesh (∂A/∂t = ∇ψ, ψ a cubic; E = 0):", "",
              "| edge (mm) | tetrahedra | effectivity | log-correlation per element |", "|---|---|---|---|"]
    for r in known_solution_study(KNOWN_EDGES_MM):
        lines.append(f"| {r['edge_mm']} | {r['n_tets']} | {r['effectivity']:.3f} | {r['log_correlation']:.2f} |")
    write_text_atomic(OUT, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
