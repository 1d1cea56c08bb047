"""A request body's size, bounded before and while it is read.

Starlette's form parser spools an upload to a temporary file as it arrives, and the
search route could only check the image's size once the whole form was parsed: a 1 GiB
POST wrote a 1 GiB temporary file before it was refused. This middleware refuses a body
whose Content-Length is over the limit before reading a byte, and counts the bytes of any
other body as they arrive, ending the request with 413 the moment the count passes the
limit, so nothing past the limit is ever handed to the parser (or written to disk)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Room for a form's other fields and multipart boundaries beside the largest upload.
FORM_OVERHEAD_BYTES = 1 << 20


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the limit; turned into a 413 here."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, what_to_do: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.what_to_do = what_to_do

    def _refusal(self) -> PlainTextResponse:
        return PlainTextResponse(
            f"refused: the request body is over {self.max_body_bytes:,} bytes; {self.what_to_do}",
            413,
            headers={"connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_body_bytes:
                    await self._refusal()(scope, receive, send)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refusal()(scope, receive, send)
