"""Schemathesis hooks for scripts/contract: media types it cannot generate by itself.

Prometheus remote write bodies (`application/x-protobuf`, snappy-compressed) are raw bytes: schemathesis
sends random ones, which ingest must refuse with a documented 400, never a 5xx.
"""
import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/x-protobuf", st.binary(max_size=512))
