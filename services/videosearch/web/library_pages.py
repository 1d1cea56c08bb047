"""The library: the indexed videos a page at a time, each with its scenes as a
filmstrip, and deleting a video; above them, the folders the Indexer watches."""

from __future__ import annotations

import asyncio
from pathlib import PurePath

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from videosearch.common.errors import NotFound, VideoSearchError
from videosearch.web.media import checked_id
from videosearch.web.view import VideoGroup, scene_tile

VIDEOS_PER_PAGE = 12
WATCHED_FOLDERS_SHOWN = 20


def routes(gateway) -> list[Route]:
    async def library(request: Request) -> Response:
        token = request.query_params.get("page_token", "")
        context = {"section": "library", "groups": [], "next_page_token": "", "total": 0}
        try:
            searcher = gateway.clients(request).searcher
            videos, next_token, total = await gateway.call(searcher.list_videos, VIDEOS_PER_PAGE, token)
            # The page's videos' scenes, asked for all at once.
            details = await asyncio.gather(
                *(gateway.call(searcher.get_video, v.video_id) for v in videos), return_exceptions=True
            )
            groups = []
            for detail in details:
                if isinstance(detail, NotFound):
                    continue  # deleted since the list was made
                if isinstance(detail, BaseException):
                    raise detail
                video, scenes = detail
                groups.append(VideoGroup(video, None, [scene_tile(video.video_id, s) for s in scenes]))
        except VideoSearchError as error:
            return gateway.error(request, error, "library.html", **context)
        return gateway.render(
            request,
            "library.html",
            **context
            | {
                "groups": groups,
                "next_page_token": next_token,
                "total": total,
                **await watched_folders(gateway.clients(request).indexer),
            },
        )

    async def watched_folders(indexer) -> dict:
        """The Indexer's libraries and their state; an Indexer that cannot say leaves a note, not an error page."""
        try:
            libraries, more = await gateway.call(indexer.list_libraries_page, WATCHED_FOLDERS_SHOWN)
        except VideoSearchError as error:
            return {"libraries": [], "libraries_note": f"watched folders unknown: {error}"}
        return {
            "libraries": libraries,
            "libraries_note": "more folders: `videosearch libraries list --all`" if more else "",
        }

    async def delete(request: Request) -> Response:
        try:
            video_id = checked_id(request.path_params["video_id"])
            searcher = gateway.clients(request).searcher
            video, _ = await gateway.call(searcher.get_video, video_id)
            scenes = await gateway.call(searcher.delete_video, video_id)
            _, _, total = await gateway.call(searcher.list_videos, 1, "")  # the header's count, swapped in too
        except VideoSearchError as error:
            return gateway.error(request, error)
        return gateway.render(
            request,
            "deleted.html",
            video_id=video_id,
            name=PurePath(video.uri).name or video_id,
            scenes=scenes,
            total=total,
        )

    return [Route("/library", library), Route("/library/{video_id}/delete", delete, methods=["POST"])]
