"""coder-tasks-contract: a contract-testing suite for Coder's AI Tasks API, and a reference server to run it on."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The one version source is pyproject.toml; the installed metadata carries it (editable installs too).
    __version__ = version("coder-tasks-contract")
except PackageNotFoundError:  # imported from a source tree that was never installed (PYTHONPATH=src)
    __version__ = "0+unknown"
