"""What the contract says: the OpenAPI document of each contract level and the clauses behind it.

- ``levels``: the contract levels (Coder versions) and what differs between them, in one table.
- ``overlays``: builds a level's document from the base ``spec/coder-tasks.yaml`` and ``spec/levels/``.
- ``task_shape``: a task body judged by the level's own ``Task`` schema.
- ``vocabulary``: each fact the suite's modules share (operation ids and routes, write set, statuses, method lists,
  Coder's fixed messages, the UUID tests, skip texts), written once and checked against every level's document.
- ``clauses``: the contract notes (``spec/clauses.yaml``), loaded, validated and looked up.
- ``clauses_doc``: renders ``docs/contract/`` from the clauses.
"""
