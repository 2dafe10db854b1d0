"""Go's formats, reproduced so the fake's bytes match Coder's.

- ``gofmt``: ``%q`` quoting, RFC 3339 times, ``encoding/json`` output, UUID parsing, query strings.
- ``gojson``: decoding a request body the way Go's ``json.Decoder`` does, with Go's error texts.
"""
