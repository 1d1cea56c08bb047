"""Contact sheets: a search's hits as one PNG grid of thumbnails, each captioned with the
video's name, the score and the time range, because people would rather look than read. The
captions are also in the PNG's ``Description`` text, one line per hit, for tools that read."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

CELL_WIDTH = 320
THUMB_HEIGHT = 180
CAPTION_HEIGHT = 54
COLUMNS = 4
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)
DIM_TEXT = (160, 160, 160)


@dataclass(frozen=True)
class SheetEntry:
    rank: int
    title: str  # the video's name
    score: str  # what ordered the hit, as the search table shows it: "relevance 0.62, raw 0.3121", "fused 0.0328, look 0.12"
    start_seconds: float
    end_seconds: float
    thumbnail_jpeg: bytes | None  # None: drawn as an empty frame ("no thumbnail")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:05.2f}" if hours else f"{minutes}:{rest:05.2f}"


def _fit(text: str, draw: ImageDraw.ImageDraw, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength("…" + text, font=font) > width:
        text = text[1:]  # keep the end: a file name's end tells videos apart
    return "…" + text


def render_sheet(entries: list[SheetEntry], columns: int = COLUMNS) -> Image.Image:
    columns = max(1, min(columns, len(entries) or 1))
    rows = max(1, -(-len(entries) // columns))
    cell_h = THUMB_HEIGHT + CAPTION_HEIGHT
    sheet = Image.new("RGB", (columns * CELL_WIDTH, rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for position, entry in enumerate(entries):
        x, y = (position % columns) * CELL_WIDTH, (position // columns) * cell_h
        if entry.thumbnail_jpeg:
            with Image.open(io.BytesIO(entry.thumbnail_jpeg)) as thumb:
                thumb = thumb.convert("RGB")
                thumb.thumbnail((CELL_WIDTH - 8, THUMB_HEIGHT - 8))
                sheet.paste(thumb, (x + (CELL_WIDTH - thumb.width) // 2, y + (THUMB_HEIGHT - thumb.height) // 2))
        else:
            draw.rectangle((x + 4, y + 4, x + CELL_WIDTH - 5, y + THUMB_HEIGHT - 5), outline=DIM_TEXT)
            draw.text((x + 12, y + THUMB_HEIGHT // 2), "no thumbnail (re-index to make one)", fill=DIM_TEXT, font=font)
        text_x, width = x + 8, CELL_WIDTH - 16
        draw.text(
            (text_x, y + THUMB_HEIGHT + 4),
            _fit(f"#{entry.rank} {entry.title}", draw, font, width),
            fill=TEXT,
            font=font,
        )
        draw.text((text_x, y + THUMB_HEIGHT + 20), _fit(entry.score, draw, font, width), fill=DIM_TEXT, font=font)
        draw.text((text_x, y + THUMB_HEIGHT + 36), _times(entry), fill=DIM_TEXT, font=font)
    return sheet


def _times(entry: SheetEntry) -> str:
    return f"{_clock(entry.start_seconds)} - {_clock(entry.end_seconds)}"  # ASCII: the built-in font has no en dash


def caption(entry: SheetEntry) -> str:
    """One hit's caption as one line: rank, name, score, times."""
    return f"#{entry.rank} {entry.title}  {entry.score}  {_times(entry)}"


def write_sheet(entries: list[SheetEntry], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = PngInfo()
    text.add_itxt("Description", "\n".join(caption(entry) for entry in entries))
    render_sheet(entries).save(path, format="PNG", pnginfo=text)
    return path
