"""The parsing worker process: reads framed pickled requests on stdin, answers on stdout.

Started by ``IsolatedParser`` as ``python -m ingest.worker MEMORY_MB``; runs under an address-space
limit so a decompression bomb fails here with MemoryError instead of taking the machine down.
"""

import os
import pickle
import resource
import sys

from ingest.framing import read_frame, write_frame


def _handle(request, replies) -> tuple:
    from ingest.errors import IngestError
    from ingest.parse import parse_and_split
    from ingest.splitter import ChineseTextSplitter

    path, source, load_limits, splitter_config, memory_mb = request

    def on_page(done: int, total: int, ocr: bool) -> None:  # interim frames before the reply
        write_frame(
            replies,
            pickle.dumps(("progress", (done, total, ocr)), protocol=pickle.HIGHEST_PROTOCOL),
        )

    try:
        splitter = ChineseTextSplitter(**splitter_config)
        return "ok", parse_and_split(path, source, load_limits, splitter, on_page)
    except IngestError as exc:
        return "error", exc.reason
    except MemoryError:
        return "fatal", f"the file needs more than {memory_mb} MB of memory to read; skipped"
    except (ImportError, OSError) as exc:
        # a library could not load under the cap
        if "map segment" in str(exc) or "memory" in str(exc).lower():
            return "fatal", f"the file needs more than {memory_mb} MB of memory to read; skipped"
        return "error", f"could not read the file ({type(exc).__name__}: {str(exc)[:160]})"
    except RecursionError:
        return "error", "the file's structure is too deeply nested to read"
    except Exception as exc:  # a loader bug must still end as a per-file outcome
        return "error", f"could not read the file ({type(exc).__name__}: {str(exc)[:160]})"


def main() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # library prints must not corrupt the reply stream
    import ingest.parse  # noqa: F401  (import cost paid once, before the first file)

    while (frame := read_frame(requests)) is not None:
        reply = _handle(pickle.loads(frame), replies)
        write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        if reply[0] == "fatal":
            return  # memory may be fragmented: the parent starts a fresh worker


if __name__ == "__main__":
    main()
