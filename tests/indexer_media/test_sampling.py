"""Sample positions and the candidate buffer that finds them during one decode pass."""

from __future__ import annotations

import random

import pytest
from videosearch.indexer.media.sampling import (
    CandidateBuffer,
    sample_offsets,
    sample_positions,
)


def test_positions_are_midpoints_of_k_equal_segments():
    assert sample_offsets(30, 3) == [5, 15, 25]
    assert sample_offsets(150, 3) == [25, 75, 125]
    assert sample_offsets(214, 3) == [35, 107, 178]  # floor(214/6), floor(642/6), floor(1070/6)
    assert sample_positions(180, 394, 3) == [215, 287, 358]
    assert sample_offsets(10, 4) == [1, 3, 6, 8]  # floor(10/8), floor(30/8), floor(50/8), floor(70/8)


def test_one_sample_is_the_middle_frame():
    assert sample_offsets(1, 1) == [0]
    assert sample_offsets(2, 1) == [1]
    assert sample_offsets(101, 1) == [50]
    assert sample_positions(394, 720, 1) == [557]


def test_scenes_shorter_than_k_give_each_frame_once():
    assert sample_offsets(2, 3) == [0, 1]
    assert sample_offsets(1, 5) == [0]
    assert sample_offsets(3, 3) == [0, 1, 2]  # the formula agrees at L == K
    assert sample_offsets(0, 3) == []


def test_zero_samples_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        sample_offsets(10, 0)


def _feed(buffer: CandidateBuffer, start: int, end: int) -> int:
    """Adds the frames [start, end) the buffer wants; returns how many it took."""
    taken = 0
    for frame in range(start, end):
        if buffer.wants(frame):
            buffer.add(frame, ("pixels of", frame))
            taken += 1
    return taken


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_exact_for_every_length_the_buffer_covers(k):
    capacity = 16 * k
    for length in range(1, capacity + 1):
        buffer = CandidateBuffer(100, k, capacity=capacity, max_lag=15)
        _feed(buffer, 100, 100 + length)
        frames, items = buffer.pick(100 + length)
        assert buffer.stride == 1
        assert frames == sample_positions(100, 100 + length, k), length
        assert items == [("pixels of", f) for f in frames]


def test_unreachable_frames_are_dropped():
    buffer = CandidateBuffer(0, 3, capacity=1000, max_lag=0)
    _feed(buffer, 0, 600)
    # No scene of 600 frames or more samples below floor(600 / 6) = 100.
    assert buffer.frames[0] == 100
    assert len(buffer) == 500


def test_long_scene_error_stays_within_half_the_stride():
    k, capacity, max_lag = 3, 24, 15
    buffer = CandidateBuffer(0, k, capacity=capacity, max_lag=max_lag)
    preprocessed = 0
    worst = 0.0
    for frame in range(20_000):
        if buffer.wants(frame):
            buffer.add(frame, frame)
            preprocessed += 1
        assert len(buffer) <= capacity
        # Any frame can be the last of the scene: check the pick as if the cut came now.
        end = frame + 1
        if end % 7 == 0 or end < 200:
            frames, items = buffer.pick(end)
            ideal = sample_positions(0, end, k)
            assert len(frames) == min(k, end) and frames == items == sorted(set(frames))
            for got, want in zip(frames, ideal, strict=True):
                assert abs(got - want) <= buffer.stride // 2, (end, got, want, buffer.stride)
                worst = max(worst, abs(got - want) / end)
    assert buffer.stride > 1  # the test did reach the coarse regime
    assert worst < 1 / capacity  # the documented relative bound
    assert preprocessed < 20_000 / 10  # and most frames were never preprocessed


def test_late_cut_moves_the_frames_after_it_to_the_next_scene():
    buffer = CandidateBuffer(0, 3, capacity=300, max_lag=15)
    _feed(buffer, 0, 115)  # the detector reports, at frame 114, a cut at 100
    following = buffer.split(100)
    frames, items = buffer.pick(100)
    assert frames == sample_positions(0, 100, 3) == [16, 50, 83]
    assert following.start == 100 and following.frames == list(range(100, 115))
    _feed(following, 115, 160)
    assert following.pick(160)[0] == sample_positions(100, 160, 3)


def test_lagged_cut_keeps_exactness_for_the_shortest_possible_scene():
    # Pruning must keep what a cut max_lag frames back would need.
    rng = random.Random(0)
    for _ in range(200):
        scene_len = rng.randint(1, 200)
        lag = rng.randint(0, 15)
        buffer = CandidateBuffer(0, 3, capacity=256, max_lag=15)
        _feed(buffer, 0, scene_len + lag)
        following = buffer.split(scene_len)
        assert buffer.pick(scene_len)[0] == sample_positions(0, scene_len, 3)
        assert following.frames == list(range(scene_len, scene_len + lag))


def test_capacity_must_leave_room_for_the_samples():
    with pytest.raises(ValueError, match="capacity"):
        CandidateBuffer(0, 8, capacity=16)


# -- sampling through time -------------------------------------------------------------------
from videosearch.indexer.media.sampling import FrameSampling, SamplingPolicy  # noqa: E402


def test_rate_policy_samples_about_once_per_step_within_min_and_max():
    sampling = SamplingPolicy(seconds_per_sample=1.0, min_samples=3, max_samples=8).in_frames(25)
    assert sampling.count(10) == 3  # short scene: the minimum
    assert sampling.count(25 * 5) == 5  # 5 s at 25 fps: one per second
    assert sampling.count(25 * 60) == 8  # capped
    assert sampling.offsets(125) == sample_offsets(125, 5)
    assert SamplingPolicy.fixed(3).in_frames(30).count(10_000) == 3


def test_rate_policy_is_validated():
    with pytest.raises(ValueError, match="min"):
        SamplingPolicy(1.0, 5, 2).validate()
    with pytest.raises(ValueError, match="seconds per sample"):
        SamplingPolicy(-1.0, 3, 8).validate()


@pytest.mark.parametrize("step,lo,hi", [(25.0, 3, 160), (7.3, 2, 40), (29.97, 1, 300), (0.0, 3, 3), (3.0, 3, 12)])
def test_first_offset_floor_is_a_true_lower_bound(step, lo, hi):
    """The buffer drops candidates below this bound; if it were ever above the true first
    position of some longer scene, a sample would be lost."""
    sampling = FrameSampling(step, lo, hi)
    for shortest in range(0, 900, 13):
        true_min = min(sampling.offsets(length)[0] if length else 0 for length in range(shortest, shortest + 900))
        assert sampling.first_offset_floor(shortest) <= true_min, shortest


@pytest.mark.parametrize("seed", range(4))
def test_rate_buffer_picks_exact_positions_while_unstrided(seed):
    rng = random.Random(seed)
    sampling = FrameSampling(rng.choice([5.0, 12.5, 25.0]), rng.randint(1, 4), rng.randint(5, 40))
    buffer = CandidateBuffer(0, sampling, capacity=max(4 * sampling.min_samples, 2 * sampling.max_samples, 400))
    length = rng.randint(1, 380)
    for frame in range(length):
        if buffer.wants(frame):
            buffer.add(frame, frame)
    assert buffer.stride == 1
    frames, items = buffer.pick(length)
    assert frames == items == sampling.offsets(length)
