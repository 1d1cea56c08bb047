"""videosearch: natural-language search over video, built on CLIP."""
