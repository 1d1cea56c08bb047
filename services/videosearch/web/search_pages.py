"""The search page: text, an image (uploaded or pasted), "more like this" on any hit,
a negative term, filters and paging; results as scene thumbnails grouped by video.

A text search is a GET (its URL can be shared and reloaded); an image search is a
POST (multipart), protected against cross-site requests like every other POST."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from videosearch.common.errors import InvalidArgument, NotFound, VideoSearchError
from videosearch.searcher.types import QueryTerm, SceneRef, SearchFilter, SearchParams
from videosearch.web.view import is_fragment_request, result_groups

MAX_QUERY_CHARS = 1000
SCENES_PER_VIDEO = 6
# Fields of the search form that are not query terms, kept for the next page's link.
FILTER_FIELDS = ("folder", "min_duration", "max_duration", "indexed_after", "indexed_before", "min_score")


@dataclass
class SearchForm:
    """What the visitor asked, as the form shows it again and as the Searcher gets it."""

    q: str = ""
    exclude: str = ""
    video_id: str = ""  # with scene: "more like this" of that scene
    scene: int | None = None
    filters: dict[str, str] = field(default_factory=dict)
    image: bytes | None = None
    mode: Literal["", "scenes"] = (
        ""  # "scenes": the best moments across videos, one tile each; else videos with their moments
    )

    @property
    def asked(self) -> bool:
        return bool(self.q or self.image or self.video_id)

    def terms(self) -> list[QueryTerm]:
        terms = []
        if self.video_id:
            reference = SceneRef(self.video_id, self.scene) if self.scene is not None else None
            terms.append(QueryTerm(scene=reference) if reference else QueryTerm(video_id=self.video_id))
        if self.image:
            terms.append(QueryTerm(image=self.image))
        if self.q:
            terms.append(QueryTerm(text=self.q))
        if self.exclude:
            terms.append(QueryTerm(text=self.exclude, weight=-0.5))
        return terms

    def search_filter(self) -> SearchFilter:
        f = self.filters
        return SearchFilter(
            folder=f.get("folder", ""),
            min_duration_seconds=_number(f, "min_duration"),
            max_duration_seconds=_number(f, "max_duration"),
            indexed_after=_day(f, "indexed_after"),
            indexed_before=_day(f, "indexed_before", next_day=True),
            min_relevance=_number(f, "min_score"),  # the form's "lowest relevance", calibrated 0..1
        )

    def query_string_items(self) -> list[tuple[str, str]]:
        """The GET fields that ask this again (an image cannot travel in a link)."""
        items = [
            ("q", self.q),
            ("exclude", self.exclude),
            ("mode", self.mode),
            ("video_id", self.video_id),
            ("scene", "" if self.scene is None else str(self.scene)),
            *self.filters.items(),
        ]
        return [(k, v) for k, v in items if v]


def parse_form(values: Mapping[str, str]) -> SearchForm:
    def text(name: str) -> str:
        value = str(values.get(name, "")).strip()
        if len(value) > MAX_QUERY_CHARS:
            raise InvalidArgument(f"{name} is {len(value)} characters long; use at most {MAX_QUERY_CHARS}")
        return value

    scene_text = text("scene")
    try:
        scene = int(scene_text) if scene_text else None
    except ValueError:
        raise InvalidArgument(f"scene must be a scene number, not {scene_text!r}") from None
    mode = text("mode")
    if mode not in ("", "videos", "scenes"):
        raise InvalidArgument(f"mode must be videos or scenes, not {mode[:40]!r}")
    return SearchForm(
        q=text("q"),
        exclude=text("exclude"),
        video_id=text("video_id"),
        scene=scene,
        filters={name: text(name) for name in FILTER_FIELDS if text(name)},
        mode="scenes" if mode == "scenes" else "",
    )


def _number(values: Mapping[str, str], name: str) -> float | None:
    if not values.get(name):
        return None
    try:
        number = float(values[name])
    except ValueError:
        raise InvalidArgument(f"{name.replace('_', ' ')} must be a number, not {values[name]!r}") from None
    if not math.isfinite(number):
        raise InvalidArgument(f"{name.replace('_', ' ')} must be a finite number")
    return number


def _day(values: Mapping[str, str], name: str, next_day: bool = False) -> dt.datetime | None:
    """A date field (YYYY-MM-DD) as the start of that day in UTC; ``next_day``: of the day
    after, so that "indexed before" includes the day given."""
    if not values.get(name):
        return None
    try:
        day = dt.date.fromisoformat(values[name])
    except ValueError:
        raise InvalidArgument(f"{name.replace('_', ' ')} must be a date like 2026-01-31") from None
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    return start + dt.timedelta(days=1) if next_day else start


def routes(gateway) -> list[Route]:
    max_image_bytes = gateway.settings.max_upload_mb * 1024 * 1024

    async def run(request: Request, form: SearchForm, page_token: str = "") -> Response:
        context = {
            "section": "search",
            "form": form,
            "groups": None,
            "next_page_token": "",
            "result": None,
            "like_name": "",
        }
        template = "results.html" if is_fragment_request(request) else "search.html"
        if not form.asked:
            return gateway.render(request, template, **context)
        try:
            if form.video_id and template == "search.html":  # "like scene 1 of shapes.mp4", not of an id
                with contextlib.suppress(NotFound):
                    video, _ = await gateway.call(gateway.clients(request).searcher.get_video, form.video_id)
                    context["like_name"] = PurePath(video.uri).name
            params = SearchParams(
                top_k=gateway.settings.results_per_page,
                scenes_per_video=SCENES_PER_VIDEO,
                filter=form.search_filter(),
                page_token=page_token,
                mode=form.mode or "videos",
            )
            searcher = gateway.clients(request).searcher
            result = await gateway.call(searcher.search, terms=form.terms(), params=params)
            # Moment hits name only their video: its record once per video, for the file name.
            ids = list(dict.fromkeys(hit.video_id for hit in result.scenes))
            found = await asyncio.gather(*(gateway.call(searcher.get_video, i) for i in ids), return_exceptions=True)
            for answer in found:
                if isinstance(answer, BaseException) and not isinstance(answer, NotFound):
                    raise answer
            videos = {i: answer[0] for i, answer in zip(ids, found) if not isinstance(answer, BaseException)}
        except VideoSearchError as error:
            return gateway.error(request, error, template, **context)
        return gateway.render(
            request,
            template,
            **context
            | {
                "groups": result_groups(result, videos),
                "result": result,
                "next_page_token": "" if form.image else result.next_page_token,
            },
        )

    async def search_page(request: Request) -> Response:
        try:
            form = parse_form(request.query_params)
        except VideoSearchError as error:
            return gateway.error(request, error, "search.html", section="search", form=SearchForm(), groups=None)
        return await run(request, form, request.query_params.get("page_token", ""))

    async def image_search(request: Request) -> Response:
        try:
            async with request.form(max_files=1, max_fields=50) as values:
                form = parse_form({k: v for k, v in values.items() if isinstance(v, str)})
                upload = values.get("image")
                if isinstance(upload, UploadFile):
                    form.image = await upload.read(max_image_bytes + 1) or None
        except VideoSearchError as error:
            return gateway.error(request, error, "results.html", section="search", form=SearchForm(), groups=None)
        if form.image and len(form.image) > max_image_bytes:
            too_large = InvalidArgument(
                f"the image is over {gateway.settings.max_upload_mb} MiB; send a smaller JPEG or PNG"
            )
            return gateway.error(request, too_large, "results.html", section="search", form=form, groups=None)
        return await run(request, form)

    return [Route("/", search_page), Route("/search", search_page), Route("/search", image_search, methods=["POST"])]
