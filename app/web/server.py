"""The one ASGI app: REST API + OpenAI-compatible route + MCP server (/mcp) + Gradio UI, and the
first-run knowledge base."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from app.settings import Settings, prepare_process_env

if TYPE_CHECKING:  # fastapi and gradio load inside the functions: `kb --help` stays light
    from fastapi import FastAPI


def create_api(ops) -> FastAPI:
    """The REST API alone, over ``ops`` (an ``app.operations.Operations``)."""
    from fastapi import Depends, FastAPI

    from app.web.archive_routes import router as archive_router
    from app.web.deps import require_api_key
    from app.web.errors import install_error_handlers
    from app.web.feedback_routes import router as feedback_router
    from app.web.openai_route import chat_completions_router
    from app.web.passage_routes import router as passage_router
    from app.web.routes import VERSION, public, router
    from app.web.source_routes import router as source_router

    api = FastAPI(
        title="kb-assistant",
        version=VERSION,
        description="Ask questions over your documents; answers cite file and page.",
    )
    api.state.operations = ops
    install_error_handlers(api)
    api.include_router(public)
    api.include_router(router)
    api.include_router(source_router)
    api.include_router(passage_router)
    api.include_router(feedback_router)
    api.include_router(archive_router)
    api.include_router(chat_completions_router, dependencies=[Depends(require_api_key)])
    if ops.settings.mcp:
        from app.web.mcp_mount import mount_mcp

        api.router.lifespan_context = _holding(mount_mcp(api, ops))
    return api


def _holding(running):
    """A lifespan that keeps ``running`` (the MCP session manager) open while the app serves."""

    @asynccontextmanager
    async def lifespan(app):
        async with running:
            yield

    return lifespan


def create_app(settings: Settings | None = None, with_ui: bool = True):
    """API (and UI at /ui) over fresh operations; on start the local model loads in the background
    and, on a first run, the default knowledge base is built from the bundled guide."""
    prepare_process_env()
    from fastapi.responses import FileResponse, RedirectResponse

    from app.heap_trim import HeapTrimmer
    from app.operations import Operations
    from retrieval import store_id

    ops = Operations.from_settings(settings)
    s = ops.settings

    api = create_api(ops)
    serving = api.router.lifespan_context  # the API's own (the MCP door's sessions)

    @asynccontextmanager
    async def lifespan(app):
        ops.import_parts()  # in this thread, before the model loads in another
        ops.answers.preload()
        ops.knowledge.resume_jobs()  # what a stopped server had accepted is finished first
        ops.knowledge.seed_default(
            s.seed_dir, ops.services.shared_dir / f".seeded-{store_id(s.default_kb)}"
        )
        trimmer = HeapTrimmer(s.heap_trim_s).start()
        async with serving(app):
            yield
        trimmer.stop()
        ops.knowledge.shutdown()

    api.router.lifespan_context = lifespan
    if with_ui:
        import gradio as gr

        from app.ui import CITATION_CLICKS_JS, FAVICON, build_ui
        from app.ui.gradio_strings import bilingual_gradio_strings

        keys = s.api_key_set()  # with KB_API_KEYS set, the UI asks for one as its password
        api = gr.mount_gradio_app(
            api,
            build_ui(ops),
            path="/ui",
            max_file_size=f"{s.max_upload_mb}mb",
            js=CITATION_CLICKS_JS,
            favicon_path=FAVICON,
            i18n=bilingual_gradio_strings(),
            head='<link rel="icon" type="image/svg+xml" href="./favicon.ico">',
            auth=(lambda _user, password: password in keys) if keys else None,
            auth_message="输入 API 密钥作为密码 Enter an API key as the password",
        )

        @api.get("/", include_in_schema=False)
        def root():
            return RedirectResponse("/ui/")

        @api.get("/favicon.ico", include_in_schema=False)
        def favicon():  # what a browser asks the site's root for
            return FileResponse(FAVICON, media_type="image/svg+xml")

    return api
