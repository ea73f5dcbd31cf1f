"""Adaptive FEM refinement (P2) against uniform meshes for the error in a region of a sphere head.

    python -m tmsfield.validation.adaptive_fem_study

Three-layer sphere head 85/90/95 mm (12 mm gmsh mesh), figure-8 (dipole model) on the scalp, region
SphereROI((0, 0, 78 mm), 10 mm, tag 3). Adaptive: ``adaptive_fem`` to 0.2 % in 3 steps at most,
without and with the new surface vertices projected onto the spheres. Uniform: gmsh sphere heads at
12, 8, 6, 5 mm. Prints per model the elements, the estimate and the true relative L2 error in the
region against the analytic field, and the seconds. validation/results/adaptive.md collects runs.
"""
import time

import numpy as np

import tmsfield as tf
from tmsfield.head_models.spheres import concentric_spheres, sphere_projection
from tmsfield.solver.adaptive import adaptive_fem
from tmsfield.solver.options import AdaptiveOptions
from tmsfield.solver.results.roi import SphereROI
from tmsfield.validation.error_estimate import true_error

RADII = (0.085, 0.090, 0.095)
COIL = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
ROI = SphereROI(center=(0, 0, 0.078), radius=0.01, tags=(3,))


def in_region(result, per_element) -> float:
    """Relative L2 of ``per_element`` (M,) V/m over the region's elements of ``result``."""
    elements = ROI.elements(result.head)
    volumes = result.head.volumes[elements]
    return float(np.sqrt((volumes * per_element[elements] ** 2).sum()
                         / (volumes * (result.E[elements] ** 2).sum(axis=1)).sum()))


def pose_on(head):
    return tf.CoilPose.on_head(head, center=(0, 0, 0.095))


def main():
    head = concentric_spheres(RADII, edge_length=0.012)
    for project in (None, sphere_projection(RADII)):
        started = time.perf_counter()
        result = adaptive_fem(head, COIL, pose_on(head), roi=ROI, project=project, verbose=False,
                              options=AdaptiveOptions(tolerance=0.002, max_steps=3))
        steps = ", ".join(f"{s['size']} elements {100 * s['estimate']:.3f} % ({s['seconds']:.1f} s)"
                          for s in result.provenance["adaptive"]["steps"])
        true = in_region(result, true_error(result, COIL, result.pose)[1])
        print(f"adaptive, projection {project is not None}: {steps}; true {100 * true:.3f} %, "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    for edge in (0.012, 0.008, 0.006, 0.005):
        started = time.perf_counter()
        head = concentric_spheres(RADII, edge_length=edge)
        result = tf.simulate(head, COIL, pose_on(head), verbose=False)
        estimate = in_region(result, result.error_estimate.per_element)
        true = in_region(result, true_error(result, COIL, result.pose)[1])
        print(f"uniform {1e3 * edge:.0f} mm: {head.n_tets} elements, estimate {100 * estimate:.3f} %, "
              f"true {100 * true:.3f} %, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
