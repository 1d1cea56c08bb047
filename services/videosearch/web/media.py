"""The video player's file and the scene thumbnails.

``/media/{video_id}`` serves the original file of an indexed video, looked up by id
through the Searcher (never a path from the request), with HTTP range requests so the
player can seek; only a regular file under the allowed roots is ever served."""

from __future__ import annotations

import mimetypes
import re

from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader, Response
from starlette.routing import Route

from videosearch.common.errors import NotFound, VideoSearchError
from videosearch.web.files import playable_file
from videosearch.web.services import failure_of
from videosearch.web.view import scene_of, scene_tile, text_line

# Video ids are hex digests; anything else cannot name a stored video.
VIDEO_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# What the player is told when the file's extension says nothing the browser knows.
FALLBACK_TYPE = "application/octet-stream"
for suffix, kind in (
    (".mkv", "video/x-matroska"),
    (".webm", "video/webm"),
    (".m4v", "video/mp4"),
    (".mov", "video/quicktime"),
    (".ogv", "video/ogg"),
):
    mimetypes.add_type(kind, suffix)


class VideoFileResponse(FileResponse):
    """A file with Range handled as RFC 9110 says (section 14.2): a Range header the server
    does not understand or that is invalid (``bytes=5-1``, ``items=0-5``) is ignored and the
    whole file served (200), where Starlette answers 400; an unsatisfiable one (a start past
    the end) stays 416 with ``Content-Range: bytes */size``."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # no ranges: the whole file


def checked_id(video_id: str) -> str:
    if not VIDEO_ID.fullmatch(video_id):
        raise NotFound(f"{video_id[:80]!r} is not a video id; take one from the library or a search")
    return video_id


def scene_number(text: str) -> int:
    number = _int(text, -1)
    if number < 0:
        raise NotFound(f"{text[:20]!r} is not a scene number; scenes count from 0")
    return number


def routes(gateway) -> list[Route]:
    async def media(request: Request) -> Response:
        try:
            video_id = checked_id(request.path_params["video_id"])
            video, _ = await gateway.call(gateway.clients(request).searcher.get_video, video_id)
            path = playable_file(video, gateway.roots)
        except VideoSearchError as error:
            failure = failure_of(error)
            return Response(failure.message, failure.http_status, media_type="text/plain")
        kind = mimetypes.guess_type(path.name)[0] or FALLBACK_TYPE
        return VideoFileResponse(path, media_type=kind, headers={"cache-control": "private, max-age=3600"})

    async def watch(request: Request) -> Response:
        """The player alone, for a hit opened in a new tab or without JavaScript."""
        try:
            video_id = checked_id(request.path_params["video_id"])
            video, scenes = await gateway.call(gateway.clients(request).searcher.get_video, video_id)
            spans = await gateway.call(gateway.clients(request).searcher.get_text_spans, video_id)
        except VideoSearchError as error:
            return gateway.error(request, error, section="library")
        scene_index = _int(request.query_params.get("scene"), 0)
        scene = next((s for s in scenes if s.index == scene_index), scenes[0] if scenes else None)
        start = _float(request.query_params.get("t"), scene.start_seconds if scene else 0.0)
        tiles = [scene_tile(video_id, s) for s in scenes]
        lines = [text_line(span, scene_index=scene_of(scenes, span.start_seconds)) for span in spans]
        return gateway.render(
            request,
            "watch.html",
            section="library",
            video=video,
            tiles=tiles,
            lines=lines,
            start=start,
            scene_index=scene.index if scene else 0,
        )

    async def thumbnail(request: Request) -> Response:
        try:
            video_id = checked_id(request.path_params["video_id"])
            scene = scene_number(request.path_params["scene"])
            thumb = await gateway.call(gateway.clients(request).searcher.get_scene_thumbnail, video_id, scene)
        except VideoSearchError as error:
            failure = failure_of(error)
            return Response(
                placeholder_svg("no thumbnail" if failure.http_status == 404 else "thumbnail unavailable"),
                failure.http_status,
                media_type="image/svg+xml",
                headers={"x-reason": _header(failure.message)},
            )
        # A stored thumbnail never changes for a video id (the id is its content's hash).
        return Response(thumb.image_jpeg, media_type="image/jpeg", headers={"cache-control": "private, max-age=86400"})

    return [
        Route("/media/{video_id}", media),
        Route("/watch/{video_id}", watch),
        Route("/thumb/{video_id}/{scene}", thumbnail),
    ]


def placeholder_svg(text: str) -> str:
    """What an <img> shows when a scene has no thumbnail; the text is one of ours, not the visitor's."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">'
        '<rect width="320" height="180" fill="#2b2f36"/><text x="160" y="96" fill="#c9d1d9" font-size="18" '
        f'font-family="sans-serif" text-anchor="middle">{text}</text></svg>'
    )


def _header(text: str) -> str:
    """A message made safe for an HTTP header: one line of printable ASCII."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:300]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _float(text: str | None, default: float) -> float:
    try:
        value = float(text) if text is not None else default
    except ValueError:
        return default
    return value if value >= 0 and value == value and value != float("inf") else default
