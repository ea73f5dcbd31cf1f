"""Exception types. Every error raised for bad user input is a :class:`TmsFieldError`."""


class TmsFieldError(ValueError):
    """Base class: bad input or a failed computation, with a message a user can act on."""


class MeshError(TmsFieldError):
    """A head mesh is malformed (inverted/degenerate tetrahedra, unknown tags, ...)."""


class FileFormatError(TmsFieldError):
    """A file could not be read: truncated, wrong format, or bad values (names the file)."""


class CoilError(TmsFieldError):
    """A coil definition is invalid (NaN, empty, inconsistent shapes)."""


class PlacementError(TmsFieldError):
    """A coil pose is impossible (coil inside the head, degenerate orientation)."""


class BackendError(TmsFieldError, RuntimeError):
    """The requested array backend cannot run here (e.g. backend="gpu" without a usable GPU)."""
