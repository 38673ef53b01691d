"""A local CoCalc hub serving HTTP API v1 for tests and demos (see tests/server/README.md)."""
