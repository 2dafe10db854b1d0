"""What the contract says: the OpenAPI document of each contract level and the clauses behind it.

- ``levels``: the contract levels (Coder versions) and what differs between them, in one table.
- ``overlays``: builds a level's document from the base ``spec/coder-tasks.yaml`` and ``spec/levels/``.
- ``task_shape``: a task body judged by the level's own ``Task`` schema.
- ``clauses``: the contract notes (``spec/clauses.yaml``), loaded, validated and looked up.
- ``clauses_doc``: renders ``docs/contract/`` from the clauses.
"""
