"""Shared infrastructure: array backend, errors, logging/progress, units, atomic file writes."""
from .backend import Backend, get_backend
from .errors import CoilError, FileFormatError, MeshError, PlacementError, TmsFieldError

__all__ = ["Backend", "get_backend", "TmsFieldError", "MeshError", "CoilError",
           "PlacementError", "FileFormatError"]
