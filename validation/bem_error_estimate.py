"""The BEM error estimate (solver/bem/error_estimate.py) against the true error on nested spheres.

    python -m tmsfield.validation.bem_error_estimate RADII_MM H_MM [H_MM ...]

RADII_MM: sphere radii in mm, innermost first, comma-separated (four: brain, CSF, bone, scalp);
H_MM: facet edge lengths (mm) of the gmsh spheres. Figure-8 (dipole model) 4 mm above the
scalp. For each size, on 2000 points of spheres at 60 mm and 1 mm below the innermost surface,
prints the true relative L2 error of E against the analytic field (Heller & van Hulsteyn), the
estimate ‖E_δ‖/‖E‖, their ratio (the effectivity) and the correlation of E_δ with the error
field (−1: E_δ is the exact correction). validation/results/bem_error_estimate.md collects runs.
"""
import sys
import time

import numpy as np

import tmsfield as tf
from tmsfield.head_models.spheres import sphere_surfaces
from tmsfield.solver.bem import BEMSolver, Interfaces
from tmsfield.solver.bem.error_estimate import ChargeErrorField
from tmsfield.validation.analytic import relative_l2
from tmsfield.validation.bem_sphere_study import fibonacci_sphere, reference, sources


def main(argv):
    radii = [1e-3 * float(v) for v in argv[1].split(",")]
    coil, _ = sources()["figure-8 (dipole model)"]
    pose = tf.CoilPose.from_axes(center=[0, 0, radii[-1] + 0.004], normal=[0, 0, -1], handle=[0, 1, 0])
    shells = {f"{1e3 * r:.0f} mm": fibonacci_sphere(r, 2000) for r in (0.060, radii[0] - 0.001)}
    print(f"radii {[round(1e3 * r, 1) for r in radii]} mm", flush=True)
    for h in argv[2:]:
        surf = Interfaces.from_surfaces([sphere_surfaces([r], edge_length=1e-3 * float(h))[0] for r in radii],
                                        tags=(2, 3, 4, 5)[-len(radii):])
        result = BEMSolver(surf).solve(coil, pose, didt=1e6)
        t = time.time()
        error_field = ChargeErrorField(result.charges, result.density)  # as result.error_estimate(points)
        rows = []
        for name, points in shells.items():
            E, exact = result.sample(points), reference(points, coil, pose)
            estimate = error_field.field(points)
            error = E - exact
            true, est = relative_l2(E, exact), np.linalg.norm(estimate) / np.linalg.norm(E)
            corr = (error * estimate).sum() / (np.linalg.norm(error) * np.linalg.norm(estimate))
            rows.append(f"{name}: true {100 * true:.4f} % est {100 * est:.4f} % ratio {est / true:.2f} "
                        f"corr {corr:+.2f}")
        print(f"  h {h} mm, {surf.n_facets} facets: " + "; ".join(rows)
              + f" (estimate {time.time() - t:.1f} s, solve {result.timings['solve']:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv)
