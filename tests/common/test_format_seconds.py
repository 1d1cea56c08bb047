"""format_seconds (integer arithmetic) against the exact Fraction route it replaced:
``str(PresentationTime.from_seconds(s))``, rounding to the nanosecond and then to the millisecond,
ties to even; and against ``str(Timecode(frame, fps))`` for constant frame rates."""

import random
from fractions import Fraction

import pytest

from videosearch.common.timecode import PresentationTime, Timecode, format_seconds


def _times() -> list[float]:
    rng = random.Random(7)
    ties = [0.0005, 0.0015, 0.0025, 5e-10, 1.5e-9, 2.5e-9, 3599.9995, 86399.9995]
    return [
        0.0,
        *ties,
        *(-t for t in ties),
        *(rng.uniform(0, 100_000) for _ in range(20_000)),
        *(round(rng.uniform(0, 10_000), 3) + 0.0005 for _ in range(5_000)),
        *(rng.randint(0, 10**7) / 1000 for _ in range(5_000)),
    ]


def test_the_same_string_as_the_exact_presentation_time():
    wrong = [t for t in _times() if format_seconds(t) != str(PresentationTime.from_seconds(t))]
    assert wrong == []


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(24000, 1001), Fraction(25), Fraction(60)])
def test_a_frames_time_reads_as_its_timecode(fps):
    for frame in range(0, 200_000, 37):
        assert format_seconds(float(frame / fps)) == str(Timecode(frame, fps))


def test_ties_go_to_the_even_millisecond():
    assert format_seconds(0.0005) == str(PresentationTime.from_seconds(0.0005))
    assert format_seconds(Fraction(1, 2000)) == "00:00:00.000"  # exactly half a millisecond: to 0
    assert format_seconds(Fraction(3, 2000)) == "00:00:00.002"  # 1.5 ms: to 2
    assert format_seconds(3661) == "01:01:01.000"


@pytest.mark.parametrize("value, error", [(float("nan"), ValueError), (float("inf"), OverflowError)])
def test_a_time_that_is_no_number_is_refused_as_before(value, error):
    with pytest.raises(error):
        format_seconds(value)
