"""A tiny procedurally rendered visual world that a small CLIP can learn.

Every image shows exactly **one** saturated, coloured shape on a low-saturation
(grey-ish, slightly tinted) background with a gradient and a grey-level texture.
Its caption is ``"a <color> <shape>"`` (``"an orange ..."``), e.g. ``"a red circle"``.

Vocabulary (see :data:`COLORS`, :data:`SHAPES`, :data:`CAPTIONS`):

* colours: red, green, blue, yellow, purple, orange
* shapes: circle, square, triangle, star, cross
* 6 x 5 = 30 captions.

Every caption also has a Chinese form, ``"一个<颜色>的<形状>"`` (:data:`CAPTIONS_ZH`, e.g.
``"一个红色的圆"``, ``"一个橙色的十字"``), and the demo model is trained on both languages
(plus a few Chinese phrasings, :func:`chinese_variants`), so a Chinese query finds the same
scenes as its English twin.

Design rules that keep captions unambiguous:

* object colours are strongly saturated; backgrounds have a saturation of at most
  ~0.12, so a background can never look like an object colour;
* the object always lies completely inside the *central square* of the frame, so a
  CLIP-style "resize shortest edge + center crop" of a 16:9 frame still contains it;
* shapes are only tilted by up to ~20 degrees (a triangle points up, a cross is a "+",
  a square is not a diamond), which makes them much easier to learn for a tiny ViT;
* the object radius is 18-35 % of the central square's side, large enough to tell a
  star from a cross at 40 px.

All randomness comes from a caller-provided ``numpy.random.Generator``; rendering is
vectorised numpy and returns ``uint8`` arrays of shape ``(H, W, 3)`` in RGB order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 170, 50),
    "blue": (40, 70, 220),
    "yellow": (235, 210, 40),
    "purple": (140, 50, 190),
    "orange": (245, 135, 25),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross")
COLOR_NAMES: tuple[str, ...] = tuple(COLORS)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


CAPTIONS: list[str] = [f"{_article(c)} {c} {s}" for c in COLOR_NAMES for s in SHAPES]
"""All captions of the world, index = ``color_index * len(SHAPES) + shape_index``."""

CHINESE_COLORS: dict[str, str] = {
    "red": "红色",
    "green": "绿色",
    "blue": "蓝色",
    "yellow": "黄色",
    "purple": "紫色",
    "orange": "橙色",
}
CHINESE_SHAPES: dict[str, str] = {
    "circle": "圆",
    "square": "正方形",
    "triangle": "三角形",
    "star": "星星",
    "cross": "十字",
}
CAPTIONS_ZH: list[str] = [f"一个{CHINESE_COLORS[c]}的{CHINESE_SHAPES[s]}" for c in COLOR_NAMES for s in SHAPES]
"""The captions in Chinese, in the order of :data:`CAPTIONS` (same index, same scene)."""

CAPTIONS_BY_LANGUAGE: dict[str, list[str]] = {"en": CAPTIONS, "zh": CAPTIONS_ZH}
"""Caption lists by language code; every list has the order of :data:`CAPTIONS`."""

LANGUAGES: tuple[str, ...] = tuple(CAPTIONS_BY_LANGUAGE)

# Other ways to say a Chinese colour or shape, used as training paraphrases so a query like
# "红色圆形" or "黄色的五角星" works too; the first of each is the canonical word.
_CHINESE_COLOR_FORMS: dict[str, tuple[str, ...]] = {c: (z, z[0]) for c, z in CHINESE_COLORS.items()}
_CHINESE_SHAPE_FORMS: dict[str, tuple[str, ...]] = {
    "circle": ("圆", "圆形", "圆圈"),
    "square": ("正方形", "方块", "方形"),
    "triangle": ("三角形", "三角"),
    "star": ("星星", "五角星", "星形"),
    "cross": ("十字", "十字形", "加号"),
}
_CHINESE_TEMPLATES: tuple[str, ...] = ("一个{c}的{s}", "{c}的{s}", "{c}{s}", "一个{c}{s}")


def chinese_variants(index: int) -> list[str]:
    """Every Chinese phrasing of caption ``index`` the demo model is trained on."""
    color, shape = COLOR_NAMES[index // len(SHAPES)], SHAPES[index % len(SHAPES)]
    out = []
    for t in _CHINESE_TEMPLATES:
        for c in _CHINESE_COLOR_FORMS[color]:
            for s in _CHINESE_SHAPE_FORMS[shape]:
                text = t.format(c=c, s=s)
                if text not in out:
                    out.append(text)
    return out


WORDS: list[str] = ["a", "an", *COLOR_NAMES, *SHAPES, *CAPTIONS_ZH]
"""Every word that appears in a caption (the Chinese captions count as words: the tokenizer
splits them into characters)."""

_COLOR_RGB = np.array([COLORS[c] for c in COLOR_NAMES], dtype=np.float32)

DEFAULT_SIZE = (640, 360)  # (W, H) used for demo videos

MAX_TILT = 0.35  # radians (~20 degrees): shapes are upright-ish (triangle points up, cross is "+")


def parse_caption(caption: str) -> tuple[int, int]:
    """Return ``(color_index, shape_index)`` for a caption of :data:`CAPTIONS` or :data:`CAPTIONS_ZH`."""
    if caption.strip() in CAPTIONS_ZH:
        return divmod(CAPTIONS_ZH.index(caption.strip()), len(SHAPES))
    words = caption.strip().lower().split()
    if len(words) != 3 or words[0] not in ("a", "an") or words[1] not in COLORS or words[2] not in SHAPES:
        raise ValueError(f"not a caption of the demo world: {caption!r}")
    return COLOR_NAMES.index(words[1]), SHAPES.index(words[2])


def caption_index(caption: str) -> int:
    c, s = parse_caption(caption)
    return c * len(SHAPES) + s


# --------------------------------------------------------------------------- params


def sample_params(
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    bg_level: np.ndarray | None = None,
    bg_spread: float = 45.0,
) -> dict[str, np.ndarray]:
    """Sample random scene parameters for a batch of caption indices.

    Geometry is expressed in units of the central square's side (0..1), so the same
    parameters render at any resolution / aspect ratio.
    ``bg_level`` optionally fixes the background base grey level (0..255) per item and
    ``bg_spread`` bounds the grey-level difference across the background gradient.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = int(labels.shape[0])
    p: dict[str, np.ndarray] = {}
    p["color"] = labels // len(SHAPES)
    p["shape"] = labels % len(SHAPES)
    radius = rng.uniform(0.18, 0.35, n)
    p["radius"] = radius
    m = radius * 1.06
    p["cx"] = rng.uniform(m, 1 - m)
    p["cy"] = rng.uniform(m, 1 - m)
    p["angle"] = rng.uniform(-MAX_TILT, MAX_TILT, n)
    # object colour: base + jitter, and a shading gradient across the object
    p["obj_rgb"] = np.clip(_COLOR_RGB[p["color"]] + rng.uniform(-18, 18, (n, 3)), 0, 255)
    p["obj_shade"] = rng.uniform(-18, 18, n)
    p["obj_shade_dir"] = rng.uniform(0, 2 * np.pi, n)
    # background: two tinted greys blended along a gradient direction
    lvl = rng.uniform(15, 240, n) if bg_level is None else np.asarray(bg_level, dtype=np.float64)
    lvl2 = np.clip(lvl + rng.uniform(-bg_spread, bg_spread, n), 5, 250)
    p["bg0"] = _tinted_grey(lvl, rng)
    p["bg1"] = _tinted_grey(lvl2, rng)
    p["bg_dir"] = rng.uniform(0, 2 * np.pi, n)
    # grey-level texture: 0 none, 1 stripes, 2 checker, 3 plasma
    p["tex_kind"] = rng.integers(0, 4, n)
    p["tex_amp"] = rng.uniform(3, 12, n)
    p["tex_freq"] = rng.uniform(3, 12, n)
    p["tex_dir"] = rng.uniform(0, 2 * np.pi, n)
    p["tex_phase"] = rng.uniform(0, 2 * np.pi, (n, 3))
    p["noise"] = rng.uniform(2, 7, n)
    return p


def _tinted_grey(level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grey levels with a small random tint (saturation <= ~0.12)."""
    n = level.shape[0]
    tint = rng.normal(0, 1, (n, 3))
    tint -= tint.mean(axis=1, keepdims=True)
    tint /= np.maximum(np.abs(tint).max(axis=1, keepdims=True), 1e-6)
    amount = rng.uniform(0, 0.12, n) * np.minimum(level, 255 - level + 40)
    return np.clip(level[:, None] + tint * amount[:, None], 0, 255)


# ------------------------------------------------------------------------ rendering


def _object_distance(shape: np.ndarray, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Approximate signed distance (negative inside) to each shape, in square units.

    ``x``, ``y``: rotated object-centred coordinates, shape (n, H, W); ``r``: (n, 1, 1).
    """
    d = np.empty_like(x)
    for k, name in enumerate(SHAPES):
        sel = shape == k
        if not np.any(sel):
            continue
        xs, ys, rs = x[sel], y[sel], r[sel]
        if name == "circle":
            dk = np.sqrt(xs * xs + ys * ys) - rs * 0.92
        elif name == "square":
            dk = np.maximum(np.abs(xs), np.abs(ys)) - rs * 0.78
        elif name == "triangle":
            dk = None
            for j in range(3):
                a = np.pi / 2 + j * 2 * np.pi / 3
                h = xs * np.cos(a) + ys * np.sin(a)
                dk = h if dk is None else np.maximum(dk, h)
            # circumradius r  ->  inradius r/2; shift slightly so the area is comparable
            dk = dk - rs * 0.55
        elif name == "star":
            rr = np.sqrt(xs * xs + ys * ys)
            th = np.arctan2(ys, xs) + np.pi / 2
            sector = 2 * np.pi / 5
            u = np.abs(np.mod(th + sector / 2, sector) - sector / 2) / (sector / 2)
            rho = rs * (1.0 - 0.58 * u)
            dk = (rr - rho) * 0.8
        elif name == "cross":
            w = rs * 0.30
            L = rs * 0.95
            ax, ay = np.abs(xs), np.abs(ys)
            dk = np.minimum(np.maximum(ax - L, ay - w), np.maximum(ax - w, ay - L))
        else:  # pragma: no cover
            raise AssertionError(name)
        d[sel] = dk
    return d


def render_params(
    p: dict[str, np.ndarray],
    height: int,
    width: int,
    rng: np.random.Generator,
    *,
    supersample: int = 1,
) -> np.ndarray:
    """Render a batch of parameter sets to ``uint8`` images of shape ``(n, H, W, 3)``.

    ``supersample=k`` renders at k times the resolution and box-filters down (used for
    small training images so they look like a downscaled large frame).
    """
    n = p["color"].shape[0]
    H, W = height * supersample, width * supersample
    S = float(min(H, W))
    ox, oy = (W - S) / 2.0, (H - S) / 2.0
    # pixel-centre coordinates in central-square units
    xs = ((np.arange(W, dtype=np.float32) + 0.5 - ox) / S)[None, None, :]
    ys = ((np.arange(H, dtype=np.float32) + 0.5 - oy) / S)[None, :, None]
    f = lambda a: np.asarray(a, dtype=np.float32).reshape(n, 1, 1)

    # background gradient (relative to the whole frame) + texture
    gx = (np.arange(W, dtype=np.float32) / max(W - 1, 1))[None, None, :]
    gy = (np.arange(H, dtype=np.float32) / max(H - 1, 1))[None, :, None]
    c, s = f(np.cos(p["bg_dir"])), f(np.sin(p["bg_dir"]))
    t = (gx - 0.5) * c + (gy - 0.5) * s
    t = np.clip(t / (np.abs(c) * 0.5 + np.abs(s) * 0.5 + 1e-6) * 0.5 + 0.5, 0, 1)  # (n,H,W)
    bg0 = np.asarray(p["bg0"], np.float32)[:, None, None, :]
    bg1 = np.asarray(p["bg1"], np.float32)[:, None, None, :]
    img = bg0 + (bg1 - bg0) * t[..., None]

    tex = np.zeros((n, H, W), dtype=np.float32)
    kind = p["tex_kind"]
    if np.any(kind > 0):
        fr = f(p["tex_freq"]) * 2 * np.pi
        cd, sd = f(np.cos(p["tex_dir"])), f(np.sin(p["tex_dir"]))
        ph = np.asarray(p["tex_phase"], np.float32)
        u = xs * cd + ys * sd
        v = -xs * sd + ys * cd
        s1 = np.sin(fr * u + ph[:, 0, None, None])
        s2 = np.sin(fr * v + ph[:, 1, None, None])
        kk = kind.reshape(n, 1, 1)
        tex = np.where(kk == 1, s1, tex)
        tex = np.where(kk == 2, np.sign(s1 * s2), tex)
        plasma = (
            s1 + np.sin(0.6 * fr * (u + v) + ph[:, 2, None, None]) + np.sin(0.4 * fr * v + ph[:, 0, None, None])
        ) / 3
        tex = np.where(kk == 3, plasma, tex)
        img = img + (tex * f(p["tex_amp"]))[..., None]

    # object
    cx, cy, r = f(p["cx"]), f(p["cy"]), f(p["radius"])
    ca, sa = f(np.cos(p["angle"])), f(np.sin(p["angle"]))
    dx, dy = xs - cx, ys - cy
    rx = dx * ca + dy * sa
    ry = -dx * sa + dy * ca
    d = _object_distance(np.asarray(p["shape"]), rx, ry, r)
    alpha = np.clip(0.5 - d * S, 0.0, 1.0)  # ~1px anti-aliased edge
    shade_t = (dx * f(np.cos(p["obj_shade_dir"])) + dy * f(np.sin(p["obj_shade_dir"]))) / r
    obj = np.asarray(p["obj_rgb"], np.float32)[:, None, None, :] + (shade_t * f(p["obj_shade"]))[..., None]
    img = img + (obj - img) * alpha[..., None]

    if supersample > 1:
        k = supersample
        img = img.reshape(n, height, k, width, k, 3).mean(axis=(2, 4))
    # per-frame grey-level noise (same on all channels: keeps grey pixels grey, so
    # hue does not flicker from frame to frame)
    noise = rng.standard_normal((n, height, width), dtype=np.float32) * f(p["noise"])
    img = img + noise[..., None]
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def render_batch(
    labels: np.ndarray, height: int, width: int, rng: np.random.Generator, *, supersample: int = 1
) -> np.ndarray:
    """Render random images for caption indices ``labels``: ``(n, H, W, 3)`` uint8 RGB."""
    p = sample_params(np.asarray(labels), rng)
    return render_params(p, height, width, rng, supersample=supersample)


def render_frame(caption: str, rng: np.random.Generator, size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """Render one random frame (``(H, W, 3)`` uint8 RGB) showing ``caption``; size is ``(W, H)``."""
    w, h = size
    return render_batch(np.array([caption_index(caption)]), h, w, rng)[0]


def clip_params(
    caption: str,
    n_frames: int,
    rng: np.random.Generator,
    *,
    bg_level: float | None = None,
    bg_spread: float = 45.0,
) -> dict[str, np.ndarray]:
    """Per-frame parameters of a moving scene: the object drifts (bouncing inside the
    central square), rotates and slightly pulses; the background is fixed."""
    base = sample_params(
        np.array([caption_index(caption)]),
        rng,
        bg_level=None if bg_level is None else np.array([bg_level]),
        bg_spread=bg_spread,
    )
    p = {k: np.repeat(v, n_frames, axis=0) for k, v in base.items()}
    t = np.arange(n_frames, dtype=np.float64)
    r0 = float(base["radius"][0])
    pulse = 1.0 + 0.06 * np.sin(2 * np.pi * t / rng.uniform(20, 50) + rng.uniform(0, 2 * np.pi))
    p["radius"] = r0 * pulse
    m = r0 * 1.06 * 1.06
    lo, hi = m, 1 - m
    speed = rng.uniform(0.004, 0.012)
    heading = rng.uniform(0, 2 * np.pi)
    for key, v in (("cx", np.cos(heading)), ("cy", np.sin(heading))):
        start = float(base[key][0])
        start = min(max(start, lo), hi)
        pos = start - lo + speed * v * t
        span = max(hi - lo, 1e-6)
        pos = np.mod(pos, 2 * span)
        pos = np.where(pos > span, 2 * span - pos, pos)  # bounce
        p[key] = lo + pos
    # rock back and forth (never beyond MAX_TILT): motion without arbitrary rotations
    amp = rng.uniform(0.1, MAX_TILT)
    p["angle"] = amp * np.sin(2 * np.pi * t / rng.uniform(30, 80) + rng.uniform(0, 2 * np.pi))
    return p


def render_clip(
    caption: str,
    n_frames: int,
    rng: np.random.Generator,
    size: tuple[int, int] = DEFAULT_SIZE,
    *,
    bg_level: float | None = None,
    bg_spread: float = 45.0,
    chunk: int = 16,
) -> Iterator[np.ndarray]:
    """Yield ``n_frames`` frames (``(H, W, 3)`` uint8 RGB) of one scene showing ``caption``
    with a moving, rotating object and fresh per-frame noise. ``size`` is ``(W, H)``."""
    w, h = size
    p = clip_params(caption, n_frames, rng, bg_level=bg_level, bg_spread=bg_spread)
    for s in range(0, n_frames, chunk):
        sub = {k: v[s : s + chunk] for k, v in p.items()}
        yield from render_params(sub, h, w, rng)
