"""Errors that carry a reason a person understands."""


class IngestError(Exception):
    """A file could not be turned into text; ``reason`` is shown to the user as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
