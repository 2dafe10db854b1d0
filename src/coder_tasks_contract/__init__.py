"""coder-tasks-contract: a contract-testing suite for Coder's AI Tasks API, and a reference server to run it on."""

__version__ = "0.1.0"
