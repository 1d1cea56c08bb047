"""The player's file honours Range as RFC 9110 says: a satisfiable range is 206, an invalid
or not understood Range header is ignored (200, the whole file), an unsatisfiable one is 416
with ``Content-Range: bytes */size``."""

from __future__ import annotations

import pytest

from tests.web.conftest import indexed_video, web  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("header,status", [
    ("bytes=0-9", 206), ("bytes=-10", 206), ("bytes=10-", 206), ("bytes=0-4,10-14", 206),
    ("bytes=5-1", 200), ("items=0-5", 200), ("bytes=abc", 200), ("bytes", 200), ("bytes=", 200),
    ("bytes=999999999-", 416), ("bytes=999999999-1000000000", 416), ("bytes=-0", 416),
])
def test_range_requests_follow_rfc_9110(web, indexed_video, header, status):  # noqa: F811
    size = indexed_video.path.stat().st_size
    answer = web.get(f"/media/{indexed_video.video_id}", headers={"range": header})
    assert answer.status_code == status, (header, answer.status_code, answer.text[:200])
    if status == 200:
        assert len(answer.content) == size
    elif status == 416:
        assert answer.headers["content-range"] == f"bytes */{size}"
    else:
        assert "content-range" in answer.headers or "multipart/byteranges" in answer.headers["content-type"]
