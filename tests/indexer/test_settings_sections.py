"""The Indexer's settings reach the parts they configure by name (common.settings.section), so a
setting that stops reaching its part, or a part's field no setting fills, fails here."""

from __future__ import annotations

import dataclasses

import pytest

from videosearch.common.settings import section
from videosearch.indexer.settings import (
    IndexerSettings,
    decoder_settings,
    default_options,
    media_limits,
    moment_settings,
    watch_times,
)


def _changed(value):
    return (not value) if isinstance(value, bool) else value + 1


@pytest.mark.parametrize(
    "build, flags",
    [
        (moment_settings, {"min_scene_seconds": "moment_min_scene_seconds", "penalty": "moment_penalty",
                           "min_samples": "moment_min_frames", "merge_cosine": "moment_merge_cosine",
                           "join_cosine": "moment_join_cosine", "join_max_seconds": "moment_join_max_seconds"}),
        (watch_times, {"rescan_s": "library_rescan_s", "settle_s": "library_settle_s"}),
        (media_limits, {"max_scenes": "max_scenes", "max_speech_seconds": "max_speech_seconds"}),
        (decoder_settings, {"threads": "decoder_threads", "lowres": "decoder_lowres"}),
        (default_options, {"min_scene_len": "min_scene_frames", "min_samples": "min_frames_per_scene",
                           "max_samples": "max_frames_per_scene", "detector_threshold": "detector_threshold"}),
    ],
)
def test_each_setting_reaches_its_field(build, flags):
    base = IndexerSettings()
    for field, flag in flags.items():
        value = _changed(getattr(base, flag))
        assert getattr(build(dataclasses.replace(base, **{flag: value})), field) == value, (field, flag)


def test_a_field_no_setting_fills_is_an_error():
    @dataclasses.dataclass
    class Part:
        threads: int = 0
        colour: str = "red"

    with pytest.raises(AttributeError, match="decoder_colour"):
        section(IndexerSettings(), Part, "decoder_")
    assert section(IndexerSettings(decoder_threads=3), Part, "decoder_", not_set=("colour",)) == Part(3, "red")
