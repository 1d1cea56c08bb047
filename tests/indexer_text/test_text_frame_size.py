"""On-screen text is read from frames as large as TEXT_FRAME_MIN_SIDE allows, whatever the CLIP
input size lets the decoder shrink them to: with a small CLIP input the PyAV decoder shrank a
480x270 video 4x, and OCR missed a caption 20 px high (the issue 22 probe's "fresh bread daily")."""

from __future__ import annotations

import pytest

from tests.indexer_text.talking_videos import make_video
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.scenes import TEXT_FRAME_MIN_SIDE, decoder_shrink

SMALL_CLIP = Preprocessing(32, 32, 32, 1 / 255, (0.5,) * 3, (0.5,) * 3)
VIT_B_32 = Preprocessing(224, 224, 224, 1 / 255, (0.5,) * 3, (0.5,) * 3)


@pytest.mark.parametrize(("height", "width"), [(270, 480), (720, 1280), (1080, 1920), (2160, 3840)])
@pytest.mark.parametrize("clip", [SMALL_CLIP, VIT_B_32])
def test_frames_kept_for_text_are_never_shrunk_below_the_text_frame_size(clip, height, width):
    shrink = decoder_shrink(FramePreprocessor(clip), keep_text_frames=True)(height, width)
    assert max(height, width) / shrink >= min(max(height, width), TEXT_FRAME_MIN_SIDE)
    # Without on-screen text the decoder may shrink as far as CLIP and the cut detector allow.
    assert decoder_shrink(FramePreprocessor(clip))(height, width) >= shrink


@pytest.mark.parametrize("library", ["pyav", "opencv"])
def test_a_small_video_reaches_on_screen_text_at_full_size(tmp_path, library):
    video = make_video(tmp_path / "clip.mp4", 2, size="480x270", drawn="fresh bread daily")
    reader = media.iter_scenes(video, preprocessing=SMALL_CLIP, keep_text_frames=True,
                               decoder=DecoderSettings(library=library))
    sizes = {frame.shape[:2] for scene in reader for frame in scene.text_frames}
    assert sizes == {(270, 480)}
