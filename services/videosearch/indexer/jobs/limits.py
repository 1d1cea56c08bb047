"""What one index job may cost, checked before the work that would cost it.

A file's size is checked before it is hashed, its frame size and duration as soon as the
container is open and before the first frame is decoded, and its scene count while
scenes are detected (it cannot be known earlier). Each refusal names the limit, the
value found and the setting that raises it, so an operator can tell a hostile file from
a legitimate one that needs a higher limit.

The defaults admit any ordinary video: frames up to 8K UHD, up to 12 hours, 64 GiB, and
20,000 scenes (one every 2 seconds for 11 hours).

The words read beside the picture (videosearch.indexer.text) have limits of their own, which
never fail a job: past them the rest is left out and the job says so in a warning. 50,000 text
spans per video (a cue every second for 14 hours; the Searcher takes at most that many), 2,000
characters per span (longer cues are cut), subtitle files up to 16 MiB, and speech transcribed
for the first 4 hours of audio (pocketsphinx runs at about real time on 2 cores).
"""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.common import defaults
from videosearch.common.errors import InvalidArgument

UHD_8K_PIXELS = 7680 * 4320


class LimitExceeded(InvalidArgument):
    """A video over one of the Indexer's limits; ``limit`` names the setting."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class MediaLimits:
    max_frame_pixels: int = UHD_8K_PIXELS
    max_duration_seconds: float = 12 * 3600.0
    max_file_bytes: int = 64 * 2**30
    max_scenes: int = 20_000
    max_text_spans: int = defaults.MAX_TEXT_SPANS  # the Searcher's limits: what it takes
    max_span_chars: int = defaults.MAX_TEXT_SPAN_CHARS
    max_subtitle_file_bytes: int = 16 * 2**20
    max_speech_seconds: float = 4 * 3600.0

    def check_file(self, path: str, size_bytes: int) -> None:
        if size_bytes > self.max_file_bytes:
            raise LimitExceeded(
                "max_file_bytes",
                f"{path} is {size_bytes:,} bytes, over the Indexer's limit of "
                f"{self.max_file_bytes:,} (setting --max-file-bytes)",
            )

    def check_video(self, path: str, width: int, height: int, duration_seconds: float) -> None:
        """Before decoding: frame size and length as the container states them."""
        if width * height > self.max_frame_pixels:
            raise LimitExceeded(
                "max_frame_pixels",
                f"{path} has {width}x{height} frames ({width * height:,} pixels), "
                f"over the Indexer's limit of {self.max_frame_pixels:,} (8K UHD by default; setting "
                "--max-frame-pixels)",
            )
        if duration_seconds > self.max_duration_seconds:
            raise LimitExceeded(
                "max_duration_seconds",
                f"{path} lasts {duration_seconds:,.0f} s, over the Indexer's "
                f"limit of {self.max_duration_seconds:,.0f} s (setting --max-duration-seconds)",
            )

    def check_scene_count(self, path: str, scenes: int) -> None:
        """During detection, as soon as one scene too many is found."""
        if scenes > self.max_scenes:
            raise LimitExceeded(
                "max_scenes",
                f"{path} has more than {self.max_scenes:,} scenes, the Indexer's limit "
                "(setting --max-scenes); for such a video raise it, or detect with a higher threshold",
            )

    def validate(self) -> "MediaLimits":
        for name in (
            "max_frame_pixels",
            "max_duration_seconds",
            "max_file_bytes",
            "max_scenes",
            "max_text_spans",
            "max_span_chars",
            "max_subtitle_file_bytes",
            "max_speech_seconds",
        ):
            if not getattr(self, name) > 0:
                raise InvalidArgument(f"{name} must be positive, got {getattr(self, name)}")
        return self
