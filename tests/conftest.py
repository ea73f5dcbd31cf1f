"""Shared fixtures: test data from ../shared/data, small meshes, array backends."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import tmsfield as tf
from tmsfield.core.backend import gpu_available

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# NEURON's InterViews GUI loader, once imported, makes VTK's off-screen renders in the same
# process die with std::bad_alloc; the NEURON tests need no GUI
os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip when the checkout has none beside it."""
    if not DATA.is_dir():
        pytest.skip(f"shared test data not found at {DATA}")
    return DATA


def data_file(shared_data: Path, relative: str) -> Path:
    path = shared_data / relative
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def sphere_head():
    """3-layer sphere (85/90/95 mm, tags 3/4/5), 6 mm target edges (~98k tetrahedra)."""
    return tf.head_models.concentric_spheres(edge_length=0.006)


@pytest.fixture(scope="session")
def coarse_sphere():
    """3-layer sphere with 12 mm target edges, for fast plumbing tests."""
    return tf.head_models.concentric_spheres(edge_length=0.012)


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def backend(request):
    """Each array backend; the GPU case skips where cupy finds no device (as on CI)."""
    if request.param == "gpu" and not gpu_available():
        pytest.skip("no CUDA device usable through cupy")
    return tf.get_backend(request.param)
