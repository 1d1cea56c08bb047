"""The Indexer's media limits: each refusal names the limit, the value and the setting."""

from __future__ import annotations

import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.jobs.limits import UHD_8K_PIXELS, LimitExceeded, MediaLimits


def test_defaults_admit_ordinary_video_and_8k():
    limits = MediaLimits().validate()
    limits.check_file("/v.mp4", 4 * 2**30)
    limits.check_video("/v.mp4", 7680, 4320, 3600.0)
    limits.check_video("/phone.mp4", 1080, 1920, 30.0)
    limits.check_scene_count("/v.mp4", 20_000)


@pytest.mark.parametrize("check, limit, words", [
    (lambda l: l.check_video("/big.mp4", 8000, 8000, 10.0), "max_frame_pixels", "8000x8000"),
    (lambda l: l.check_video("/long.mp4", 1280, 720, 13 * 3600.0), "max_duration_seconds", "46,800 s"),
    (lambda l: l.check_file("/huge.mp4", 65 * 2**30), "max_file_bytes", "69,793,218,560 bytes"),
    (lambda l: l.check_scene_count("/cuts.mp4", 20_001), "max_scenes", "more than 20,000 scenes"),
])
def test_each_limit_refuses_with_its_name_value_and_setting(check, limit, words):
    with pytest.raises(LimitExceeded) as info:
        check(MediaLimits())
    assert info.value.limit == limit and words in str(info.value)
    assert "--" + limit.replace("_", "-") in str(info.value)
    assert isinstance(info.value, InvalidArgument)


def test_a_lower_limit_is_honoured_and_nonsense_limits_are_refused():
    with pytest.raises(LimitExceeded):
        MediaLimits(max_frame_pixels=1920 * 1080).check_video("/4k.mp4", 3840, 2160, 1.0)
    assert MediaLimits().max_frame_pixels == UHD_8K_PIXELS
    with pytest.raises(InvalidArgument, match="max_scenes"):
        MediaLimits(max_scenes=0).validate()
