"""Registers the contract-suite plugin: options, fixtures, target resolution, reports."""

pytest_plugins = ["coder_tasks_contract.plugin"]
