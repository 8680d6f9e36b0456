"""Errors that carry a reason a person understands."""


class IngestError(Exception):
    """A file could not be turned into text; ``reason`` is shown to the user as is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Interrupted(Exception):
    """The caller asked to stop while a file was being stored (a shutdown while the store was
    down): the file ends ``cancelled``, nothing of it kept, and a resumed job takes it up again."""
