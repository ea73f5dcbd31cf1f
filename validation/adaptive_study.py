"""Adaptive BEM refinement against uniform refinement for the same error in a region.

    python -m tmsfield.validation.adaptive_study TOLERANCE [BULK]

Three spheres 85/90/95 mm, figure-8 (dipole model) 4 mm above the scalp; the region: the 250
points of a 2000-point sphere at 80 mm (5 mm under the innermost surface) within 27° of the
coil axis. Uniform: gmsh spheres at 10, 8, 6, 5 and 4 mm facets. Adaptive: from 10 mm,
``adaptive_bem`` with the new vertices projected onto the spheres, to TOLERANCE (relative)
with Dörfler share BULK (default 0.5). Prints per model the facets, the estimate and the true
relative L2 error in the region against the analytic field (Heller & van Hulsteyn), and the
seconds (set-up + solve + estimate). validation/results/adaptive.md collects runs of it.
"""
import sys
import time

import numpy as np

import tmsfield as tf
from tmsfield.head_models.spheres import sphere_projection, sphere_surfaces
from tmsfield.solver.adaptive import adaptive_bem
from tmsfield.solver.bem import Interfaces
from tmsfield.solver.options import AdaptiveOptions
from tmsfield.validation.analytic import relative_l2
from tmsfield.validation.bem_sphere_study import fibonacci_sphere, reference, sources

RADII = (0.085, 0.090, 0.095)


def spheres(edge):
    return Interfaces.from_surfaces([sphere_surfaces([r], edge_length=edge)[0] for r in RADII], tags=(3, 4, 5))


def main(argv):
    tolerance = float(argv[1])
    bulk = float(argv[2]) if len(argv) > 2 else 0.5
    coil, _ = sources()["figure-8 (dipole model)"]
    pose = tf.CoilPose.from_axes(center=[0, 0, RADII[-1] + 0.004], normal=[0, 0, -1], handle=[0, 1, 0])
    points = fibonacci_sphere(0.080, 2000)
    roi = points[points[:, 2] > 0.080 * np.cos(np.radians(27))]
    exact = reference(roi, coil, pose)
    print(f"region: {len(roi)} points at 80 mm", flush=True)
    options = AdaptiveOptions(tolerance=tolerance, bulk=bulk, max_steps=8)
    for edge in (0.010, 0.008, 0.006, 0.005, 0.004):
        started = time.perf_counter()
        result = adaptive_bem(spheres(edge), coil, pose, roi_points=roi, options=options.replace(max_steps=0),
                              verbose=False)
        step = result.provenance["adaptive"]["steps"][0]
        print(f"uniform {1e3 * edge:.0f} mm: {step['size']} facets, estimate {100 * step['estimate']:.3f} %, "
              f"true {100 * relative_l2(result.sample(roi), exact):.3f} %, {time.perf_counter() - started:.0f} s",
              flush=True)
    started = time.perf_counter()
    result = adaptive_bem(spheres(0.010), coil, pose, roi_points=roi, options=options,
                          project=sphere_projection(RADII), verbose=False)
    record = result.provenance["adaptive"]
    print(f"adaptive from 10 mm to {100 * tolerance:g} % (bulk {bulk}): "
          + ", ".join(f"{s['size']} facets {100 * s['estimate']:.3f} % ({s['seconds']:.0f} s)" for s in record["steps"])
          + f"; true {100 * relative_l2(result.sample(roi), exact):.3f} %, {time.perf_counter() - started:.0f} s, "
          f"reached {record['reached']}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
