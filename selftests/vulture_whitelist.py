"""Names vulture calls unused that a framework or library reads by name (``vulture`` reads this file with the rest).

Only names something else calls or reads go here, each with its reader; dead code is deleted instead.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# http.server's BaseHTTPRequestHandler and ThreadingHTTPServer (selftests/support.py's loopback servers).
_.protocol_version
_.log_message
_.do_GET
_.do_POST
_.do_DELETE
_.do_PATCH
_.do_PUT
_.do_HEAD
_.do_OPTIONS
_.daemon_threads
_.close_connection

# Assigning __class__ changes the type of an existing object (generated/compat.py, faults/asgi.py, a self-test).
_.__class__

# schemathesis: ignored_auth reads CheckContext.auth_enforced_operations; APIStateMachine.__init__ calls setup().
_.auth_enforced_operations
_.setup

# pytest-html reads config.htmlpath and config.self_contained_html (reports/files.py sets them).
_.htmlpath
_.self_contained_html

# Starlette's Router reads redirect_slashes; uvicorn's Server loop reads should_exit.
_.redirect_slashes
_.should_exit

# httpx calls Auth.auth_flow; requests.Session reads trust_env.
_.auth_flow
_.trust_env

# logging formats LogRecord.msg (tests/conftest.py's token redaction rewrites it).
_.msg

# SeedInfo.organization_name reaches the seed JSON through dataclasses.asdict (selftests/test_server_main.py).
_.organization_name

# Traffic.for_test is for users' own tests; selftests/test_guard_transport.py calls it from a generated test file.
_.for_test
