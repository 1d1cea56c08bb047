"""Cross-site request forgery protection for every state-changing request.

Double submit: each browser gets a random token in an HttpOnly, SameSite=Strict cookie;
the page carries the same token in a <meta> tag and sends it back in the
``X-CSRF-Token`` header with every POST and DELETE (htmx and app.js do so). Another
site can make the browser send the cookie's request, but can neither read the page's
token nor set a custom header on a cross-site request without CORS, which the gateway
never grants. A request whose ``Origin`` names another site is refused as well."""

from __future__ import annotations

import hmac
import secrets
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "vs_csrf"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _cookie(headers: Headers, name: str) -> str:
    # Starlette's lenient parser: one malformed cookie of another app on this host does not
    # hide ours (http.cookies gives up on the whole header).
    return cookie_parser(headers.get("cookie", "")).get(name, "")


def _same_origin(headers: Headers, scope: Scope) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # some browsers send none on same-origin requests; the token still decides
    host = headers.get("host", "")
    scheme = scope.get("scheme", "http")
    return origin == f"{scheme}://{host}"


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = _cookie(headers, COOKIE)
        if scope["method"] not in SAFE_METHODS:
            sent = headers.get(HEADER, "")
            if not _same_origin(headers, scope):
                await PlainTextResponse("refused: this request came from another site", 403)(scope, receive, send)
                return
            if not token or not sent or not hmac.compare_digest(token, sent):
                await PlainTextResponse(
                    "refused: the form's security token is missing or stale; reload the page and try again", 403
                )(scope, receive, send)
                return
        new_token = "" if token else secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token or new_token

        async def send_with_cookie(message: Message) -> None:
            if new_token and message["type"] == "http.response.start":
                flags = "; Secure" if self.secure_cookies else ""
                cookie = f"{COOKIE}={new_token}; Path=/; HttpOnly; SameSite=Strict{flags}"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
