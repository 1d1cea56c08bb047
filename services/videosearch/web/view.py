"""Search results and videos as the templates show them: hits grouped by video, each
scene tile with its thumbnail, time range and score (the number that ordered the hits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from videosearch.common.timecode import format_seconds
from videosearch.searcher.types import MomentHit, SceneRecord, SearchResult, TextMatch, TextSpan, VideoRecord


def is_fragment_request(request) -> bool:
    """htmx asking for the part of a page it swaps in (not for a whole page to restore history)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def counted(number: int, word: str) -> str:
    """ "1 scene", "6 scenes": a count with its noun in the right number."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def file_size(size_bytes: int) -> str:
    """1.4 MiB, 820 KiB: a file's size as a person reads it (empty when unknown)."""
    if size_bytes <= 0:
        return ""
    if size_bytes >= 1 << 30:
        return f"{size_bytes / (1 << 30):.1f} GiB"
    return f"{size_bytes / (1 << 20):.1f} MiB" if size_bytes >= 1 << 20 else f"{max(size_bytes >> 10, 1)} KiB"


def took(seconds: float) -> str:
    """A job's duration: "4.2 s", "3 min 05 s"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def job_view(job) -> dict:
    """What a job's row shows beside the job itself: file name, folder, start, duration, detail."""
    folder, _, name = job.path.rpartition("/")
    finished = job.state.finished
    if job.error:
        detail = job.error
    elif job.state.value == "cancelled":
        detail = "cancelled; nothing stored"
    elif job.unchanged:
        detail = "unchanged"
    elif job.skipped:
        detail = "already indexed"
    elif job.scenes_found:
        detail = counted(job.scenes_found, "scene")
    else:
        detail = ""
    return {
        "name": name or job.path,
        "folder": folder or "/",
        "detail": detail,
        "started": job.create_time.isoformat(),
        "started_text": job.create_time.strftime("%H:%M:%S UTC"),
        "took": took((job.update_time - job.create_time).total_seconds()) if finished else "",
    }


def short_time(seconds: float) -> str:
    """0:02.3 or 1:02:03.4: short enough for a thumbnail's caption."""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"


@dataclass(frozen=True)
class TextLine:
    """A said or written line on the page: clicking it plays from its own start. ``parts`` are
    (text, matched) pieces, the matched ones the query's words."""

    kind: str
    start_seconds: float
    end_seconds: float
    parts: tuple[tuple[str, bool], ...]
    scene_index: int = 0
    language: str = ""

    @property
    def time_range(self) -> str:
        return f"{short_time(self.start_seconds)}–{short_time(self.end_seconds)}"

    @property
    def text(self) -> str:
        return "".join(part for part, _ in self.parts)


def text_line(span: TextSpan, highlights: tuple[tuple[int, int], ...] = (), scene_index: int = 0) -> TextLine:
    parts, at = [], 0
    for start, end in highlights:
        parts += [(span.text[at:start], False), (span.text[start:end], True)]
        at = end
    parts.append((span.text[at:], False))
    return TextLine(
        span.kind, span.start_seconds, span.end_seconds, tuple(p for p in parts if p[0]), scene_index, span.language
    )


def match_line(match: TextMatch, scene_index: int) -> TextLine:
    return text_line(match.span, match.highlights, scene_index)


def scene_of(scenes: list[SceneRecord], seconds: float) -> int:
    """The scene a time lies in (the last one for a time past the end)."""
    for scene in scenes:
        if seconds < scene.end_seconds:
            return scene.index
    return scenes[-1].index if scenes else 0


@dataclass(frozen=True)
class Score:
    """The number a hit shows: the one that ordered the hits. With said or written searched that
    is the fused score of the seen, said and written rankings (only its order means something),
    the picture's own relevance beside it as ``look``, since a hit found by its words can look
    less like the query than the hit below it; otherwise the relevance (calibrated, 0..1)."""

    value: float
    fused: bool = False
    look: float | None = None  # beside a fused score; None when no embedding was searched


@dataclass(frozen=True)
class Tile:
    """One scene (or the moment of it that matched) on the page, with the lines that matched."""

    video_id: str
    scene_index: int
    start_seconds: float
    end_seconds: float
    score: Score | None = None
    lines: tuple[TextLine, ...] = ()
    matched_kinds: tuple[str, ...] = ()

    @property
    def time_range(self) -> str:
        return f"{short_time(self.start_seconds)}–{short_time(self.end_seconds)}"

    @property
    def timecodes(self) -> str:
        return f"{format_seconds(self.start_seconds)} to {format_seconds(self.end_seconds)}"


@dataclass(frozen=True)
class VideoGroup:
    video: VideoRecord
    score: Score | None  # the video's: its best moment's fused score when words were searched
    tiles: list[Tile]
    strong: bool = True  # a strong match (by relevance); weak ones are folded away on the page

    @property
    def name(self) -> str:
        return PurePath(self.video.uri).name or self.video.video_id


def hit_tile(hit: MomentHit, score: Score | None = None) -> Tile:
    """A hit plays from the moment that matched: the scene's start for a scene that is
    one moment (every hard-cut scene), the matching stretch of a long take otherwise."""
    span = hit.moment or hit.scene
    return Tile(
        hit.video_id,
        hit.scene.index,
        span.start_seconds,
        span.end_seconds,
        score or Score(hit.relevance),
        tuple(match_line(m, hit.scene.index) for m in hit.text_matches),
        hit.matched_kinds,
    )


def _score(result: SearchResult, fused: bool, relevance: float, look_score: float, fused_score: float) -> Score:
    if not fused:
        return Score(relevance)
    look = None if result.calibration is None else float(result.calibration.relevance(look_score))
    return Score(fused_score, fused=True, look=look)


def scene_tile(video_id: str, scene: SceneRecord) -> Tile:
    return Tile(video_id, scene.index, scene.start_seconds, scene.end_seconds)


def result_groups(result: SearchResult, videos: dict[str, VideoRecord] | None = None) -> list[VideoGroup]:
    """Video results as they come; moment results (mode scenes) in rank order, consecutive hits
    of one video sharing a group (``videos``: the records of their videos; one deleted since
    the search is left out). A group is strong when its relevance reaches the result's bar.
    Each shows the score that ordered it (see Score)."""
    moments = result.scenes or [moment for hit in result.videos for moment in hit.scenes]
    fused = any(moment.fused_score > 0 for moment in moments)

    def moment_score(hit: MomentHit) -> Score:
        return _score(result, fused, hit.relevance, hit.score, hit.fused_score)

    if result.videos or not result.scenes:
        return [
            VideoGroup(
                hit.video,
                _score(result, fused, hit.relevance, hit.score, hit.scenes[0].fused_score if hit.scenes else 0.0),
                [hit_tile(s, moment_score(s)) for s in hit.scenes],
                hit.relevance >= result.strong_relevance,
            )
            for hit in result.videos
        ]
    groups: list[VideoGroup] = []
    for hit in result.scenes:
        video = (videos or {}).get(hit.video_id)
        strong = hit.relevance >= result.strong_relevance
        if video is None:
            continue
        if groups and groups[-1].video.video_id == hit.video_id and groups[-1].strong == strong:
            groups[-1].tiles.append(hit_tile(hit, moment_score(hit)))
        else:
            groups.append(VideoGroup(video, moment_score(hit), [hit_tile(hit, moment_score(hit))], strong))
    return groups
