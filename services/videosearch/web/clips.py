"""``/clip/<video id>/<scene>``: the scene cut out of the original file as an MP4 the browser
plays (H.264), for files whose own format it cannot decode. The cutting is the CLI's clip
export (issue 9, ``videosearch export``); the file is found as for the player, under the
allowed roots by video id only."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path, PurePath

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from videosearch.common.errors import NotFound, ResourceExhausted, VideoSearchError
from videosearch.web.files import playable_file
from videosearch.web.media import checked_id, scene_number
from videosearch.web.services import failure_of
from videosearch_cli.clips import export_clip
from videosearch_cli.indexing import CliError

# Re-encoding takes the CPU: one clip at a time per gateway, others are told to retry.
CLIPS_AT_ONCE = 1


def routes(gateway) -> list[Route]:
    slots = asyncio.Semaphore(CLIPS_AT_ONCE)

    async def clip(request: Request) -> Response:
        try:
            video_id = checked_id(request.path_params["video_id"])
            index = scene_number(request.path_params["scene"])
            video, scenes = await gateway.call(gateway.clients(request).searcher.get_video, video_id)
            scene = next((s for s in scenes if s.index == index), None)
            if scene is None:
                raise NotFound(f"video {video_id} has {len(scenes)} scenes; scene {index} is not one of them")
            source = playable_file(video, gateway.roots)
            if slots.locked():
                raise ResourceExhausted("another clip is being cut; try again in a few seconds")
            async with slots:
                folder = Path(tempfile.mkdtemp(prefix="videosearch-clip-"))
                out = folder / f"{PurePath(video.uri).stem}-scene{index + 1}.mp4"
                frames = scene.end_frame - scene.start_frame
                await gateway.call(
                    export_clip, str(source), scene.start_seconds, scene.end_seconds, frames, video.fps, out
                )
        except VideoSearchError as error:
            failure = failure_of(error)
            return Response(failure.message, failure.http_status, media_type="text/plain")
        except CliError as error:  # the exporter's own failure (ffmpeg could not cut the file)
            return Response(str(error), 502, media_type="text/plain")
        except ImportError:  # an installation without the ffmpeg that imageio-ffmpeg ships
            return Response(
                "clip export needs the imageio-ffmpeg package on the web page's machine (pip install imageio-ffmpeg)",
                501,
                media_type="text/plain",
            )
        return FileResponse(
            out,
            media_type="video/mp4",
            filename=out.name,
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    return [Route("/clip/{video_id}/{scene}", clip)]
