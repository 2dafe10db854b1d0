"""Nothing to register here: the contract-suite plugin (``coder_tasks_contract.plugin.hooks``: options, markers,
fixtures, target resolution, reports) loads through its ``pytest11`` entry point wherever the package is
installed, a checkout's editable install included. Listing it in ``pytest_plugins`` too would be harmless (the
entry point carries the module's name, so pytest finds it loaded already) but is not needed."""
