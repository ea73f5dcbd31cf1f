"""Shared fixtures: test data from ../shared/data, small meshes, array backends."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import tmsfield as tf
from tmsfield.core import backend as backend_module
from tmsfield.core.backend import emulated_backend, gpu_available

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


def _spheres(edge_length: float):
    """The default 3-layer sphere meshed by gmsh; where gmsh is absent (the GPU machine of
    benchmarks/gpu.py) the same mesh saved as ``$TMSFIELD_TEST_MESHES/sphere_<edge mm>mm.npz``."""
    folder = os.environ.get("TMSFIELD_TEST_MESHES")
    if folder:
        import numpy as np
        data = np.load(Path(folder) / f"sphere_{1e3 * edge_length:g}mm.npz")
        return tf.HeadMesh(data["nodes"], data["tets"].astype(np.int64), data["tags"].astype(np.int64))
    return tf.head_models.concentric_spheres(edge_length=edge_length)


@pytest.fixture(scope="session")
def sphere_head():
    """3-layer sphere (85/90/95 mm, tags 3/4/5), 6 mm target edges (~98k tetrahedra)."""
    return _spheres(0.006)


@pytest.fixture(scope="session")
def coarse_sphere():
    """3-layer sphere with 12 mm target edges, for fast plumbing tests."""
    return _spheres(0.012)


@pytest.fixture(params=["cpu", "emulated", pytest.param("gpu", marks=pytest.mark.gpu)])
def backend(request):
    """Each array backend: numpy, the strict device emulation, and cupy (the GPU case skips
    where cupy finds no device, as on CI)."""
    if request.param == "gpu" and not gpu_available():
        pytest.skip("no CUDA device usable through cupy")
    return emulated_backend() if request.param == "emulated" else tf.get_backend(request.param)


@pytest.fixture(params=["default", "emulated"])
def solver_backend(request, monkeypatch):
    """Runs a test as it is, then again with backend "auto" resolving to the strict device
    emulation, as it resolves to cupy on a GPU machine: host/device mixing anywhere on the
    path then fails. Solver test modules use it for every test (``pytestmark``); solvers
    built by module- or session-scoped fixtures are shared by both runs."""
    if request.param == "emulated":
        monkeypatch.setattr(backend_module, "_gpu_or_reason", emulated_backend)
    return request.param
