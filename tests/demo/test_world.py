import numpy as np
import pytest
from videosearch.demo import world


def test_caption_vocabulary():
    assert 24 <= len(world.CAPTIONS) <= 48
    assert len(set(world.CAPTIONS)) == len(world.CAPTIONS)
    for i, cap in enumerate(world.CAPTIONS):
        assert world.caption_index(cap) == i
    assert "an orange star" in world.CAPTIONS
    with pytest.raises(ValueError):
        world.parse_caption("a pink elephant")


def test_render_frame_shape_and_object_in_center_square():
    rng = np.random.default_rng(0)
    for cap in world.CAPTIONS:
        img = world.render_frame(cap, rng, size=(160, 90))
        assert img.shape == (90, 160, 3) and img.dtype == np.uint8
        # saturated (object) pixels only inside the central 90x90 square
        f = img.astype(int)
        sat = f.max(axis=2) - f.min(axis=2)
        obj = sat > 90
        assert obj[:, 35:125].sum() > 60, cap
        assert obj[:, :35].sum() == 0 and obj[:, 125:].sum() == 0, cap


def test_object_colour_matches_caption():
    rng = np.random.default_rng(1)
    for cap in world.CAPTIONS:
        img = world.render_frame(cap, rng, size=(96, 96)).astype(int)
        sat = img.max(axis=2) - img.min(axis=2)
        mean = img[sat > 90].mean(axis=0)
        c, _ = world.parse_caption(cap)
        ref = np.array(list(world.COLORS.values()), dtype=float)
        assert np.argmin(((ref - mean) ** 2).sum(1)) == c, (cap, mean)


def test_render_clip_moves_and_is_deterministic():
    a = list(world.render_clip("a blue star", 12, np.random.default_rng(3), size=(128, 72)))
    b = list(world.render_clip("a blue star", 12, np.random.default_rng(3), size=(128, 72)))
    assert len(a) == 12 and all(x.shape == (72, 128, 3) for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    # object moved: the saturated-pixel centroid changes between first and last frame
    def centroid(img):
        f = img.astype(int)
        ys, xs = np.nonzero(f.max(2) - f.min(2) > 90)
        return np.array([xs.mean(), ys.mean()])

    assert np.linalg.norm(centroid(a[0]) - centroid(a[-1])) > 1.0
    assert not np.array_equal(a[0], a[1])


def test_chinese_captions_name_the_same_scenes():
    assert len(world.CAPTIONS_ZH) == len(world.CAPTIONS) == len(set(world.CAPTIONS_ZH))
    assert world.CAPTIONS_ZH[world.caption_index("a red circle")] == "一个红色的圆"
    assert world.CAPTIONS_ZH[world.caption_index("an orange cross")] == "一个橙色的十字"
    for en, zh in zip(world.CAPTIONS, world.CAPTIONS_ZH):
        assert world.parse_caption(zh) == world.parse_caption(en)
        variants = world.chinese_variants(world.caption_index(en))
        assert variants[0] == zh and len(set(variants)) == len(variants)
    assert set(world.CAPTIONS_BY_LANGUAGE) == set(world.LANGUAGES) == {"en", "zh"}
    with pytest.raises(ValueError):
        world.parse_caption("一个粉色的圆")
