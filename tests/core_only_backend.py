"""A backend with the numpy backend's core ops and nothing else, to test the fused ops' defaults."""
from seqnn import backends
from seqnn.backends.fused import FusedOps


class CoreOnly(backends.Backend):
    """Core ops delegated to numpy; the fused ops run their defaults (seqnn/backends/fused.py)."""

    name = "core-only"

    def __init__(self):
        self._core = backends.get("numpy")


for _name in dir(backends.Backend):
    if not _name.startswith("_") and _name not in vars(FusedOps) and callable(getattr(backends.Backend, _name)):
        setattr(CoreOnly, _name, lambda self, *args, _op=_name, **kwargs: getattr(self._core, _op)(*args, **kwargs))
