"""Length-prefixed frames over a pipe: how the parent and the parse worker exchange pickled
messages."""

import struct

HEADER = struct.Struct("!Q")


def read_frame(stream) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return stream.read(size)


def write_frame(stream, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()
