"""The fake Coder's world and its rules, apart from HTTP and from Go's formats.

The reference server keeps its own copy of Coder's messages on purpose: it is the other side of the contract.

- ``world``: ``World``, assembled from ``world_base``, ``world_access``, ``world_create``, ``world_builds`` and
  ``world_interact``.
- ``entities``: the records; ``lifecycle``: where a workspace stands at an instant; ``clock``: injectable time.
- ``auth``: token sources and format as Coder reads them; ``errors``: domain errors in Coder's words.
- ``names``: task names; ``query``/``user_query``: the ``q`` grammars; ``agentapi``: the fake AgentAPI app.
- ``seed``: the seeded world every server starts with.
"""
