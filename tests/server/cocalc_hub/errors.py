"""Exceptions that map to the hub's answers."""


class HandlerError(Exception):
    """A handler failure: HTTP 200 {"event": "error", "id": ..., "error": <error>}."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


class NoAnswer(Exception):
    """The real hub never answers this request (e.g. metrics): hold it for a bounded time, then close."""
