"""Search arguments as query terms and filters.

Weights: a term may end in ``:WEIGHT`` (a number): ``"a dog:2"`` (the positional query
follows the same rule), ``--text "a dog:2"``, ``--image photo.jpg:0.5``. Without one a term weighs 1, and a ``--not`` term weighs
``DEFAULT_NOT_WEIGHT`` (half a positive term: measured on the demo world, ``-1`` on "a red
circle" against "a circle" also pushes the circles away, ``-0.5`` keeps them and drops red;
give ``--not "red:1"`` for the full weight). A colon not followed by a number is part of
the text or path. Terms combine as the Searcher documents (docs/searcher-notes.md): the
weighted sum of the terms' normalized embeddings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

from videosearch.searcher.types import QueryTerm, SceneRef, SearchFilter
from videosearch_cli.indexing import CliError

DEFAULT_NOT_WEIGHT = 0.5
_WEIGHTED = re.compile(r"^(?P<body>.*):(?P<weight>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)$", re.S)


def split_weight(value: str, default: float = 1.0) -> tuple[str, float]:
    """("a dog", 2.0) from "a dog:2"; (value, default) without a numeric suffix."""
    match = _WEIGHTED.match(value)
    if not match or not match["body"]:
        return value, default
    weight = float(match["weight"])
    if not math.isfinite(weight):
        raise CliError(f"{value!r}: the weight after ':' must be a finite number")
    return match["body"], weight


def read_image(path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the query image {path}: {exc.strerror}; give a JPEG or PNG file") from None


def scene_ref(value: str) -> SceneRef:
    """VIDEO_ID:SCENE (scene index from 0)."""
    video_id, _, scene = value.rpartition(":")
    if not video_id or not scene.isdigit():
        raise CliError(
            f"--like-scene {value!r}: give VIDEO_ID:SCENE, e.g. 3f2a9c0d1e2b4a5c:4 (`videos show` lists scenes)"
        )
    return SceneRef(video_id, int(scene))


def terms_from_args(args, *, required: bool = True) -> list[QueryTerm]:
    """Every term the search arguments name; the positional query is a text term like --text
    (``"a dog:2"`` weighs 2).
    ``required``: no term at all is an error (`more-like-this` brings its own)."""
    texts = [args.query] if getattr(args, "query", None) else []
    terms = []
    for value in [*texts, *(args.text or ())]:  # one rule: the positional query is a --text
        text, weight = split_weight(value)
        terms.append(QueryTerm(text=text, weight=weight))
    for value in args.image or ():
        path, weight = split_weight(value)
        terms.append(QueryTerm(image=read_image(path), weight=weight))
    for value in args.not_text or ():
        text, weight = split_weight(value, DEFAULT_NOT_WEIGHT)
        terms.append(QueryTerm(text=text, weight=-abs(weight)))
    for value in args.not_image or ():
        path, weight = split_weight(value, DEFAULT_NOT_WEIGHT)
        terms.append(QueryTerm(image=read_image(path), weight=-abs(weight)))
    for value in getattr(args, "like_scene", None) or ():  # VIDEO:SCENE already has its colon: weight 1
        terms.append(QueryTerm(scene=scene_ref(value)))
    for video_id in getattr(args, "like_video", None) or ():
        terms.append(QueryTerm(video_id=video_id))
    if not terms and required:
        raise CliError("nothing to search for: give a query text, --text, --image, --like-scene or --like-video")
    return terms


def _moment(value: str, flag: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"{flag} {value!r}: give an ISO date or time, e.g. 2024-05-01 or 2024-05-01T12:00:00+02:00"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()  # a bare date or time is local time


def filter_from_args(args) -> SearchFilter:
    return SearchFilter(
        path_prefix=args.path_prefix or "",
        folder=str(Path(args.folder).expanduser().resolve()) if args.folder else "",
        min_duration_seconds=args.min_duration,
        max_duration_seconds=args.max_duration,
        indexed_after=_moment(args.indexed_after, "--indexed-after") if args.indexed_after else None,
        indexed_before=_moment(args.indexed_before, "--indexed-before") if args.indexed_before else None,
        min_score=args.min_cosine,
        min_relevance=args.min_score,
    )


def add_query_arguments(parser) -> None:
    """The term, filter and paging flags of `search` (and `more-like-this`)."""
    terms = parser.add_argument_group("query terms (repeatable; TERM:WEIGHT gives a weight, default 1)")
    terms.add_argument("--text", action="append", metavar="TEXT[:W]", help="a text term, e.g. --text 'a dog:2'")
    terms.add_argument("--image", action="append", metavar="FILE[:W]", help="a JPEG or PNG whose look to search for")
    terms.add_argument(
        "--not",
        dest="not_text",
        action="append",
        metavar="TEXT[:W]",
        help=f"a text to avoid (weight -{DEFAULT_NOT_WEIGHT} unless given)",
    )
    terms.add_argument(
        "--not-image",
        action="append",
        metavar="FILE[:W]",
        help=f"an image to avoid (weight -{DEFAULT_NOT_WEIGHT} unless given)",
    )
    filters = parser.add_argument_group("filters (applied before ranking)")
    filters.add_argument("--folder", help="only videos with a file inside this folder (recursively)")
    filters.add_argument("--path-prefix", help="only videos with a file path starting with this string")
    filters.add_argument("--min-duration", type=float, metavar="SECONDS", help="only videos at least this long")
    filters.add_argument("--max-duration", type=float, metavar="SECONDS", help="only videos at most this long")
    filters.add_argument("--indexed-after", metavar="ISO_TIME", help="only videos indexed at or after this time")
    filters.add_argument("--indexed-before", metavar="ISO_TIME", help="only videos indexed before this time")
    filters.add_argument(
        "--min-score",
        type=float,
        metavar="RELEVANCE",
        help="only hits at least this relevant, on the calibrated scale 0..1 that means the same "
        "for every model (0.5: a strong match)",
    )
    filters.add_argument(
        "--min-cosine", type=float, help="only hits whose raw score (the model's cosine, -1..1) is at least this"
    )
    pages = parser.add_argument_group("pages")
    pages.add_argument("--page-token", default="", help="continue a search: the token its previous page printed")
    pages.add_argument(
        "--next",
        action="store_true",
        help="show the next page of the last search run from this account (same arguments)",
    )
