"""`kb serve`: the REST API and the web UI in one server."""

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="address to bind (127.0.0.1 = this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="mount the Gradio web UI")] = True,
):
    """Serve the web UI (/) and the REST API (/docs) in one process."""
    import logging

    import uvicorn

    from app.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"kb-assistant: UI http://{host}:{port}/  API docs http://{host}:{port}/docs")
    uvicorn.run(create_app(with_ui=ui), host=host, port=port, log_level="info")
