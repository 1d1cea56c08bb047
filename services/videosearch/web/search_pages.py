"""The search page: a text query, results as scene thumbnails grouped by video."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from videosearch.common.errors import InvalidArgument, VideoSearchError
from videosearch.searcher.types import SearchParams
from videosearch.web.view import is_fragment_request, result_groups

MAX_QUERY_CHARS = 1000
TOP_VIDEOS = 12
SCENES_PER_VIDEO = 6


def routes(gateway) -> list[Route]:
    async def search_page(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        context = {"section": "search", "q": query, "groups": None}
        if not query:
            return gateway.render(request, "search.html", **context)
        try:
            if len(query) > MAX_QUERY_CHARS:
                raise InvalidArgument(f"the query is {len(query)} characters long; use at most {MAX_QUERY_CHARS}")
            params = SearchParams(top_k=TOP_VIDEOS, scenes_per_video=SCENES_PER_VIDEO)
            result = await gateway.call(gateway.clients(request).searcher.search, text=query, params=params)
        except VideoSearchError as error:
            return gateway.error(request, error, _template(request), **context)
        return gateway.render(request, _template(request), **context, groups=result_groups(result))

    return [Route("/", search_page), Route("/search", search_page)]


def _template(request: Request) -> str:
    """htmx swaps only the results into the page; a plain request gets the whole page."""
    return "results.html" if is_fragment_request(request) else "search.html"
