"""`kb serve`: the REST API and the web UI in one server; `kb worker`: ingestion from the shared
queue."""

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str, typer.Option(help="address to bind (127.0.0.1 = this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="mount the Gradio web UI")] = True,
):
    """Serve the web UI (/) and the REST API (/docs) in one process."""
    import logging

    import uvicorn

    from app.cli.common import fail
    from app.operations import DataDirTooNew
    from app.web import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    typer.echo(f"kb-assistant: UI http://{host}:{port}/  API docs http://{host}:{port}/docs")
    try:
        app = create_app(with_ui=ui)
    except DataDirTooNew as exc:
        fail(str(exc), 3)
    uvicorn.run(app, host=host, port=port, log_level="info")


def worker():
    """Run ingestion jobs from the shared queue (KB_QUEUE_URL) until stopped with Ctrl-C or SIGTERM.

    API replicas started with the same KB_QUEUE_URL, KB_CHROMA_URL and KB_SHARED_DIR record uploads;
    any number of workers run them. A job whose worker dies is taken up by another after
    KB_JOB_LEASE_S."""
    import logging
    import signal

    from app.cli.common import fail
    from app.heap_trim import HeapTrimmer
    from app.operations import DataDirTooNew, Operations
    from app.settings import Settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    if not settings.queue_url:
        fail("KB_QUEUE_URL is not set: without a shared queue, `kb serve` runs ingestion itself")
    Operations.import_parts()  # before the job threads start importing them
    try:
        ops = Operations.from_settings(settings, run_jobs=True)
    except DataDirTooNew as exc:
        fail(str(exc), 3)

    def stop(signum, frame):
        typer.echo(
            "stopping: the file being embedded is finished, the rest of its job is given back",
            err=True,
        )
        ops.knowledge.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ops.services.embeddings.embed_query("warm-up")  # load the model before taking a job
    typer.echo(
        f"kb worker {ops.knowledge.jobs.worker_id}: taking ingestion jobs from the queue", err=True
    )
    trimmer = HeapTrimmer(settings.heap_trim_s).start()
    ops.knowledge.run_worker()
    trimmer.stop()
