"""Each script in examples/ runs at its small size and shows the property it is about."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_figure8_depth_at_fixed_energy():
    ex = _load("figure8_depth_at_fixed_energy")
    out = ex.main("small")
    start, best = out["start"], out["best"]
    assert best.e_target > 1.05 * start.e_target          # the optimiser improved the objective
    assert out["energy"] == pytest.approx(ex.ENERGY, rel=1e-12)   # at the fixed stored energy
    assert np.all((best.x >= 0) & (best.x <= 1))           # within the design bounds
    _, radii = ex.design_vector(best.x, ex.SIZES["small"]["turns"])
    assert np.min(np.diff(radii)) >= ex.WIRE.width * (1 - 1e-9) and radii[-1] <= ex.MAX_OUTER + 1e-12


def test_figure8_turns_energy_focality():
    ex = _load("figure8_turns_energy_focality")
    rows = ex.main("small")
    assert [r["turns"] for r in rows] == list(ex.SIZES["small"]["turns"])
    for r in rows:
        assert r["energy"] <= min(r["bound_energies"]) * (1 + 1e-9)   # a minimum inside the bounds
        assert r["voltage"] == pytest.approx(r["inductance"] * r["didt"])
        assert 0 < r["half_value_area"] < 2 * np.pi * 0.08**2 / 2
    assert rows[1]["inductance"] > 2 * rows[0]["inductance"]           # L grows ~ N²
    assert rows[1]["current"] < rows[0]["current"]


def test_subject_to_c3(tmp_path):
    """The walk-through lays out an m2m folder, places the coil at C3 of its cap and at MNI M1,
    and writes the summary with the ROI and the cortex GIfTI files."""
    pytest.importorskip("nibabel")
    ex = _load("subject_to_c3")
    out = ex.main(tmp_path)
    c3 = out["c3"]
    assert c3["rois"][0]["name"] == "cortex under C3" and c3["rois"][0]["elements"] > 0
    assert "cortex.surf.gii" in out["files"] and (out["folder"] / "summary.json").is_file()
    assert c3["placement"]["center_mm"][0] < -30                     # C3 is over the left hemisphere
    assert 8 < c3["placement"]["scalp_cortex_distance_mm"] < 20
    # MNI (-37, -21, 58) through the identity 12-DOF file: the coil sits over the left, above it
    assert out["m1"]["placement"]["nearest_scalp_point_mm"][0] < -20
