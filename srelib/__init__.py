"""SRE Value Workbench: operational data in, trustworthy numbers, narratives and reports out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("srelib")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
