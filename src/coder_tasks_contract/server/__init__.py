"""The reference server: a faithful fake of Coder's AI Tasks API at commit 82f525baf3.

Modules: ``clock`` (injectable time), ``model`` (domain state, no HTTP: ``World``, assembled from the ``world_*``
mixins), ``lifecycle`` (status and current_state of STATUS-1, STATE-1), ``render`` (domain objects to Coder's wire
JSON), ``names``, ``query`` (the ``q`` grammar), ``gojson`` (Go's JSON decoding rules and error texts), ``auth`` (token
transports, 401 bodies, CSRF), ``agentapi`` (the fake agent), ``app`` (Starlette routes and handlers),
``middleware`` (what Coder does before routing), ``runner`` (serve on a loopback socket) and ``__main__``
(standalone command).
"""
