"""What the suite is pointed at, and whether it is usable.

- ``model``: the deployment (or embedded reference server), its users and template versions.
- ``preflight``: checks the target before any test runs; each failure is one line naming the fix.
- ``secret``: a session token that cannot leak through repr, tracebacks or reports.
"""
