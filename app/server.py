"""The one ASGI app: REST API + Gradio UI, and the first-run knowledge base."""

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from app.settings import Settings, prepare_process_env

log = logging.getLogger("kb.server")


def create_app(settings: Settings | None = None, with_ui: bool = True):
    prepare_process_env()
    from fastapi.responses import RedirectResponse

    from app.api import create_api
    from app.jobs import JobManager
    from app.services import Services

    services = Services(settings or Settings())
    jobs = JobManager(services)

    @asynccontextmanager
    async def lifespan(app):
        preload_local_model(services)
        seed_default_kb(services, jobs)
        yield
        jobs.shutdown()

    api = create_api(services, jobs)
    api.router.lifespan_context = lifespan
    if with_ui:
        import gradio as gr

        from app.ui import build_ui

        blocks = build_ui(services, jobs)
        keys = services.settings.api_key_set()  # with KB_API_KEYS set, the UI asks for one as its password
        api = gr.mount_gradio_app(api, blocks, path="/ui", max_file_size=f"{services.settings.max_upload_mb}mb",
                                  auth=(lambda _user, password: password in keys) if keys else None,
                                  auth_message="输入 API 密钥作为密码 Enter an API key as the password")

        @api.get("/", include_in_schema=False)
        def root():
            return RedirectResponse("/ui/")
    return api


def preload_local_model(services) -> None:
    """Load the default local model in the background, so the first question does not wait for it
    (/health says when it is ready)."""
    if services.settings.preload_model:
        engine = services.default_local_engine()
        if engine is not None:
            log.info("loading local model %s in the background", engine.name)
            engine.start_loading()


def seed_default_kb(services, jobs) -> None:
    """First run: build the default knowledge base from knowledge_base/ (the product's own guide)."""
    from ingest import expand_paths, is_supported
    from retrieval import store_id

    s = services.settings
    # The marker is written when seeding finished: a first run that was interrupted seeds again
    # (already indexed files are cheap duplicates), while a user's later deletions are respected.
    marker = Path(s.data_dir) / f".seeded-{store_id(s.default_kb)}"
    if not s.seed_dir.is_dir() or marker.exists():
        return
    files = [(p, p.name) for p in expand_paths([s.seed_dir]) if is_supported(p)]
    if files:
        services.store.get(s.default_kb, create=True)
        job = jobs.submit(s.default_kb, files, on_done=lambda job: _mark_seeded(job, marker))
        log.info("first run: building knowledge base '%s' from %s (job %s)", s.default_kb, s.seed_dir, job.id)


def _mark_seeded(job, marker: Path) -> None:
    if all(f.status in ("indexed", "duplicate") for f in job.files):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
