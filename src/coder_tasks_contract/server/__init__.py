"""The reference server: a faithful fake of Coder's AI Tasks API at each contract level (82f525baf3, v2.29, newest).

- ``domain/``: the world and its rules (no HTTP); it keeps its own copy of Coder's messages on purpose.
- ``api/``: Starlette routes, Coder's middleware, wire rendering and the client-author features.
- ``golang/``: Go's formats (``%q``, RFC 3339, ``encoding/json`` decoding and its error texts).
- ``runner``: serve an app on a loopback socket with uvicorn; ``__main__``: the standalone command.
"""
