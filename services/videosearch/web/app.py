"""The gateway's HTTP application: pages, fragments for htmx, the media and thumbnail
endpoints, job progress as server-sent events. Every answer comes from the services'
gRPC API through the typed clients; the only files the gateway opens are under its
allowed roots (see files.py)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from videosearch.common.errors import VideoSearchError
from videosearch.web import clips, index_pages, library_pages, media, search_pages
from videosearch.web.body_limit import FORM_OVERHEAD_BYTES, BodyLimitMiddleware
from videosearch.web.csrf import CsrfMiddleware
from videosearch.web.services import ServiceClients, Services, failure_of
from videosearch.web.settings import WebSettings
from videosearch.web.view import counted, file_size, is_fragment_request, job_view

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TOKEN_COOKIE = "vs_token"
MAX_TOKEN_CHARS = 4096
# The page loads nothing from elsewhere, runs no inline script and embeds no other site.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}

# Context that only a visitor with a valid token may see, and what an error page shows instead.
PROTECTED_CONTEXT: dict[str, object] = {
    "listing": None,
    "jobs": [],
    "groups": [],
    "result": None,
    "next_page_token": "",
    "total": 0,
}


class SecurityHeadersMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


class Gateway:
    """What the route modules share: settings, templates, the clients of the visitor's token."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.roots = settings.roots()
        self.services = Services(settings)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters.update(counted=counted, file_size=file_size, job_view=job_view)

    def clients(self, request: Request) -> ServiceClients:
        return self.services.for_token(request.cookies.get(TOKEN_COOKIE, ""))

    async def call(self, function: Callable, *args, **kwargs):
        """A blocking client call, off the event loop."""
        return await run_in_threadpool(function, *args, **kwargs)

    def render(self, request: Request, template: str, status_code: int = 200, **context) -> Response:
        """A whole page, or only its fragment when htmx asked (``fragment`` names it)."""
        context.setdefault("error", None)
        context["csrf"] = request.scope.get("state", {}).get("csrf_token", "")
        context["has_token"] = bool(request.cookies.get(TOKEN_COOKIE))
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def error(self, request: Request, error: VideoSearchError, template: str = "error.html", **context) -> Response:
        """The failure shown in the page; an htmx action's goes to the page's message area."""
        failure = failure_of(error)
        log.info("%s %s: %s", request.method, request.url.path, failure.message)
        if failure.needs_token:
            # Whatever a route gathered before the refusal is not shown to a visitor without a valid token.
            context |= {key: value for key, value in PROTECTED_CONTEXT.items() if key in context}
        response = self.render(request, template, failure.http_status, error=failure, **context)
        if template == "error.html" and is_fragment_request(request):
            response.headers.update({"hx-retarget": "#messages", "hx-reswap": "innerHTML"})
        return response


def _closing(gateway: Gateway):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        gateway.services.close()

    return lifespan


def create_app(settings: WebSettings) -> Starlette:
    gateway = Gateway(settings)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page links; the page's icon is an SVG.
        return RedirectResponse("/static/favicon.svg", status_code=301)

    async def save_token(request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token", "")).strip()
        if not token or len(token) > MAX_TOKEN_CHARS or not token.isprintable():
            raise HTTPException(400, "paste the token as videosearch-token wrote it (one line)")
        response = PlainTextResponse("token saved", headers={"hx-refresh": "true"})
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies)
        return response

    async def forget_token(request: Request) -> Response:
        response = PlainTextResponse("token forgotten", headers={"hx-refresh": "true"})
        response.delete_cookie(TOKEN_COOKIE, httponly=True, samesite="strict")
        return response

    routes = [
        Route("/healthz", health),
        Route("/favicon.ico", favicon),
        Route("/token", save_token, methods=["POST"]),
        Route("/token/forget", forget_token, methods=["POST"]),
        *search_pages.routes(gateway),
        *library_pages.routes(gateway),
        *index_pages.routes(gateway),
        *media.routes(gateway),
        *clips.routes(gateway),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                BodyLimitMiddleware,
                max_body_bytes=settings.max_upload_mb * (1 << 20) + FORM_OVERHEAD_BYTES,
                what_to_do=f"send an image of at most {settings.max_upload_mb} MiB (the page's --max-upload-mb)",
            ),
            Middleware(CsrfMiddleware, secure_cookies=settings.secure_cookies),
        ],
        lifespan=_closing(gateway),
    )
    app.state.gateway = gateway
    return app
