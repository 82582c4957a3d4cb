"""Limner: image annotation for deep-learning datasets."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("limner")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
