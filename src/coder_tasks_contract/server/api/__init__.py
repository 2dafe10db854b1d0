"""The fake Coder's HTTP side: middleware, routing, handlers and wire rendering.

- ``app``: the task routes and handlers; ``router``: chi's order under a task mount.
- ``middleware``: what Coder does to every request before routing; ``params``: what handlers read.
- ``render``/``render_sdk``: domain records to Coder's wire JSON.
- ``coder_api``: the API around the task routes a client calls (users, orgs, templates, workspaces).
- ``control``, ``recorder``, ``strict``: the client-author features (states on demand, request record, strict mode).
"""
