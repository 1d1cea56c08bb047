"""Issue 9 in the Searcher domain object, on a real LevelDB store: composite and negative
queries, stored scenes and videos as queries, filters before ranking (also with the ANN
index), paging, explained hits with per-frame scores, thumbnails, open URIs, and the schema 3
upgrade of a schema-2 store built by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import numpy as np
import pytest
from PIL import Image
from tests.searcher.searcher_testlib import make_scenes, make_video, one_hot, open_searcher, random_unit, unit, write_old_store
from videosearch.common.errors import InvalidArgument, NotFound
from videosearch.searcher.storage import fsck
from videosearch.searcher.image_query import ImageLimits, decode_image
from videosearch.searcher.service import Searcher
from videosearch.searcher.storage.store import SCHEMA_VERSION
from videosearch.searcher.types import (
    QueryTerm,
    SampledFrame,
    SceneRef,
    SearchFilter,
    SearchParams,
    Thumbnail,
    VideoExtras,
    VideoLocation,
)

SCENES = 3


def jpeg(color=(200, 30, 30), size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def extras_for(video_id: str, vectors: np.ndarray, rng) -> VideoExtras:
    """Two sampled frames per one-moment scene (make_scenes: 30 frames each): the moment's
    vector is their normalized mean, frame 2 of each pair leaning off it."""
    frames, rows, thumbs = [], [], []
    for i, v in enumerate(vectors):
        noise = random_unit(rng, 1)[0]
        a, b = unit(v + 0.05 * noise), unit(v - 0.05 * noise)
        frames += [SampledFrame(i, 30 * i + 7, (30 * i + 7) / 29.97), SampledFrame(i, 30 * i + 22, (30 * i + 22) / 29.97)]
        rows += [a, b]
        thumbs.append(Thumbnail(jpeg(), 32, 24, 30 * i + 15, (30 * i + 15) / 29.97))
    return VideoExtras(tuple(frames), np.stack(rows), tuple(thumbs))


def add(searcher: Searcher, video_id: str, vectors: np.ndarray, rng=None, *, path: str | None = None, **video_fields):
    video = dataclasses.replace(make_video(video_id, len(vectors)), **video_fields)
    if path is not None:
        video = dataclasses.replace(video, uri=path, locations=(VideoLocation(path),))
    extras = extras_for(video_id, vectors, rng) if rng is not None else VideoExtras()
    return searcher.upsert_video(video, make_scenes(len(vectors)), vectors, extras=extras)


def scores_of(result) -> list[float]:
    return [h.score for h in (result.scenes or result.videos)]


def test_a_composite_query_ranks_by_the_weighted_sum_of_its_terms_cosines(searcher, rng):
    rows = {f"v{i}": random_unit(rng, SCENES) for i in range(8)}
    for video_id, vectors in rows.items():
        add(searcher, video_id, vectors)
    a, b, c = random_unit(rng, 3)
    terms = [QueryTerm(vector=a, weight=2.0), QueryTerm(vector=b), QueryTerm(vector=c, weight=-0.5)]
    result = searcher.search(terms=terms, params=SearchParams(mode="scenes", top_k=24))
    everything = np.concatenate(list(rows.values()))
    weighted = everything @ (2 * a + b - 0.5 * c)  # the ranking the module doc promises
    expected = np.sort(weighted)[::-1] / np.linalg.norm(2 * a + b - 0.5 * c)
    assert np.allclose(scores_of(result), expected, atol=1e-5)


def test_a_negative_term_pushes_down_what_it_names(searcher):
    # v_red is "circle + red", v_blue "circle + blue"; "circle" alone ties them; "not red" decides.
    circle, red, blue = one_hot(3, [0, 1, 2])
    add(searcher, "v_red", unit(np.stack([circle + red] * SCENES)))
    add(searcher, "v_blue", unit(np.stack([circle + blue] * SCENES)))
    plain = searcher.search(vector=circle + 0.01 * red)
    assert plain.videos[0].video.video_id == "v_red"
    negated = searcher.search(vector=circle + 0.01 * red, terms=[QueryTerm(vector=red, weight=-1.0)])
    assert negated.videos[0].video.video_id == "v_blue"


def test_terms_that_cancel_out_and_bad_weights_are_invalid(searcher, rng):
    add(searcher, "v", random_unit(rng, SCENES))
    q = random_unit(rng, 1)[0]
    with pytest.raises(InvalidArgument, match="cancel out"):
        searcher.search(terms=[QueryTerm(vector=q), QueryTerm(vector=q, weight=-1.0)])
    for weight in (float("nan"), float("inf"), 101.0):
        with pytest.raises(InvalidArgument, match="weight"):
            searcher.search(terms=[QueryTerm(vector=q, weight=weight)])
    with pytest.raises(InvalidArgument, match="exactly one of"):
        searcher.search(terms=[QueryTerm()])
    with pytest.raises(InvalidArgument, match="at most 16"):
        searcher.search(terms=[QueryTerm(vector=q)] * 17)


def test_more_like_this_by_scene_and_video_leaves_the_example_out_by_default(searcher, rng):
    base = random_unit(rng, 1)[0]
    add(searcher, "a", unit(np.stack([base, *random_unit(rng, 2)])))
    add(searcher, "b", unit(np.stack([base + 0.1 * random_unit(rng, 1)[0], *random_unit(rng, 2)])))
    add(searcher, "c", random_unit(rng, SCENES))
    like_scene = [QueryTerm(scene=SceneRef("a", 0))]
    hits = searcher.search(terms=like_scene, params=SearchParams(mode="scenes", top_k=3)).scenes
    assert (hits[0].video_id, hits[0].scene.index) == ("b", 0)
    assert ("a", 0) not in {(h.video_id, h.scene.index) for h in hits}
    with_self = searcher.search(terms=like_scene, params=SearchParams(mode="scenes", top_k=1, include_examples=True))
    assert (with_self.scenes[0].video_id, with_self.scenes[0].scene.index) == ("a", 0)
    assert with_self.scenes[0].score == pytest.approx(1.0, abs=1e-5)
    similar = searcher.search(terms=[QueryTerm(video_id="a")], params=SearchParams(top_k=5)).videos
    assert "a" not in [v.video.video_id for v in similar] and len(similar) == 2
    with pytest.raises(NotFound, match="no video"):
        searcher.search(terms=[QueryTerm(video_id="nope")])
    with pytest.raises(NotFound, match="no scene 7"):
        searcher.search(terms=[QueryTerm(scene=SceneRef("a", 7))])
    with pytest.raises(InvalidArgument, match="count from 0"):
        searcher.search(terms=[QueryTerm(scene=SceneRef("a", -1))])


def test_filters_apply_before_ranking(searcher, rng):
    q = random_unit(rng, 1)[0]
    add(searcher, "near", unit(np.stack([q] * SCENES)), path="/videos/dogs/near.mp4")
    add(searcher, "far", random_unit(rng, SCENES), path="/videos/cats/far.mp4")
    add(searcher, "far2", random_unit(rng, SCENES), path="/videos/catsup/far2.mp4")

    def ids(f: SearchFilter) -> list[str]:
        return [h.video.video_id for h in searcher.search(vector=q, params=SearchParams(filter=f)).videos]

    assert ids(SearchFilter(folder="/videos/cats")) == ["far"]  # a folder, not a string prefix
    assert sorted(ids(SearchFilter(path_prefix="/videos/cats"))) == ["far", "far2"]
    assert ids(SearchFilter(min_score=0.99)) == ["near"]
    duration = make_video("x", SCENES).duration_seconds
    assert ids(SearchFilter(min_duration_seconds=duration + 1)) == []
    assert len(ids(SearchFilter(max_duration_seconds=duration + 1))) == 3
    now = dt.datetime.now(dt.timezone.utc)
    assert ids(SearchFilter(indexed_after=now + dt.timedelta(hours=1))) == []
    assert len(ids(SearchFilter(indexed_before=now + dt.timedelta(hours=1)))) == 3
    for bad, fragment in ((SearchFilter(min_duration_seconds=5, max_duration_seconds=1), "exceeds"),
                          (SearchFilter(min_score=2.0), "between -1 and 1"),
                          (SearchFilter(folder="videos"), "not absolute"),
                          (SearchFilter(indexed_after=now, indexed_before=now), "non-empty time range")):
        with pytest.raises(InvalidArgument, match=fragment):
            searcher.search(vector=q, params=SearchParams(filter=bad))


def test_a_selective_filter_returns_its_true_top_results_also_with_the_ann_index(tmp_path, rng):
    searcher = open_searcher(tmp_path / "ann", ann="hnsw", ann_candidates=16)
    try:
        for i in range(300):
            add(searcher, f"v{i:03d}", random_unit(rng, SCENES), path=f"/videos/{'rare' if i % 50 == 0 else 'common'}/{i}.mp4")
        assert searcher.index.wait_for_ann(60)
        for q in random_unit(rng, 5):
            f = SearchFilter(folder="/videos/rare")
            exact = searcher.search(vector=q, params=SearchParams(filter=f, mode="scenes", top_k=5))
            approx = searcher.search(vector=q, params=SearchParams(filter=f, mode="scenes", top_k=5, approximate=True))
            assert [(h.video_id, h.scene.index) for h in approx.scenes] == [(h.video_id, h.scene.index) for h in exact.scenes]
            assert len(exact.scenes) == 5 and all(h.video_id in {f"v{i:03d}" for i in range(0, 300, 50)} for h in exact.scenes)
            assert not approx.approximate_used  # 2% of the rows: exact ranking
            unfiltered = searcher.search(vector=q, params=SearchParams(mode="scenes", approximate=True))
            assert unfiltered.approximate_used
            # Half the rows: the graph still proposes, the filter drops its share of the candidates.
            half = SearchFilter(folder="/videos/common")
            broad = searcher.search(vector=q, params=SearchParams(filter=half, mode="scenes", top_k=5, approximate=True))
            assert broad.approximate_used and len(broad.scenes) == 5
            assert all(int(h.video_id[1:]) % 50 for h in broad.scenes)
    finally:
        searcher.close()


def test_pages_continue_the_ranking_and_tokens_are_bound_to_the_query(searcher, rng):
    for i in range(25):
        add(searcher, f"v{i:02d}", random_unit(rng, SCENES))
    q = random_unit(rng, 1)[0]
    whole = searcher.search(vector=q, params=SearchParams(top_k=25)).videos
    seen, token = [], ""
    while True:
        page = searcher.search(vector=q, params=SearchParams(top_k=7, page_token=token))
        seen += [h.video.video_id for h in page.videos]
        token = page.next_page_token
        if not token:
            break
    assert seen == [h.video.video_id for h in whole]
    first = searcher.search(vector=q, params=SearchParams(top_k=7))
    with pytest.raises(InvalidArgument, match="another request"):
        searcher.search(vector=-q, params=SearchParams(top_k=7, page_token=first.next_page_token))
    with pytest.raises(InvalidArgument, match="malformed"):
        searcher.search(vector=q, params=SearchParams(page_token=first.next_page_token[:-2] + "xx"))


def test_hits_carry_an_open_uri_and_on_request_every_frames_score(searcher, rng):
    vectors = random_unit(rng, SCENES)
    add(searcher, "v", vectors, rng, path="/videos/a dog.mp4")
    hit = searcher.search(vector=vectors[1], params=SearchParams(mode="scenes", top_k=1, explain=True)).scenes[0]
    assert hit.open_uri == f"file:///videos/a%20dog.mp4#t={hit.moment.start_seconds:.3f}".rstrip("0")
    frames = hit.explanation.frames
    assert [f.frame for f in frames] == [37, 52]
    stored = searcher.store.get_moment_frames("v", 1)[1].astype(np.float32)
    assert [f.score for f in frames] == pytest.approx(list(stored @ vectors[1]), abs=1e-6)
    assert hit.explanation.best_frame_index == int(np.argmax(stored @ vectors[1]))
    plain = searcher.search(vector=vectors[1], params=SearchParams(mode="scenes", top_k=1)).scenes[0]
    assert plain.explanation is None


def test_thumbnails_are_stored_with_the_video_and_deleted_with_it(tmp_path, searcher, rng):
    add(searcher, "v", random_unit(rng, SCENES), rng)
    thumb = searcher.get_thumbnail("v", 2)
    assert thumb.image_jpeg.startswith(b"\xff\xd8") and (thumb.width, thumb.height, thumb.frame) == (32, 24, 75)
    with pytest.raises(NotFound, match="no scene 3"):
        searcher.get_thumbnail("v", 3)
    with pytest.raises(NotFound, match="no video"):
        searcher.get_thumbnail("w", 0)
    with pytest.raises(InvalidArgument, match="count from 0"):
        searcher.get_thumbnail("v", -1)
    add(searcher, "bare", random_unit(rng, SCENES))
    with pytest.raises(NotFound, match="re-index"):
        searcher.get_thumbnail("bare", 0)
    searcher.delete_video("v")
    assert not list(searcher.store.leveldb.db.iterator(prefix=b"thumb/")) and not list(searcher.store.leveldb.db.iterator(prefix=b"frames/"))


@pytest.mark.parametrize("change, fragment", [
    (lambda e: dataclasses.replace(e, thumbnails=e.thumbnails[:2]), "one per scene"),
    (lambda e: dataclasses.replace(e, thumbnails=(dataclasses.replace(e.thumbnails[0], image_jpeg=b"GIF89a"),
                                                  *e.thumbnails[1:])), "not a JPEG"),
    (lambda e: dataclasses.replace(e, thumbnails=(dataclasses.replace(e.thumbnails[0], frame=40), *e.thumbnails[1:])),
     "outside scene 0"),
    (lambda e: dataclasses.replace(e, frames=e.frames[:-1], frame_embeddings=e.frame_embeddings[:-1]), "frames of moment 2"),
    (lambda e: dataclasses.replace(e, frame_embeddings=None), "frame_embeddings are missing"),
    (lambda e: dataclasses.replace(e, frame_embeddings=e.frame_embeddings * 3), "L2-normalized"),
    (lambda e: dataclasses.replace(e, frames=(dataclasses.replace(e.frames[0], frame=29), *e.frames[1:])),
     "not in increasing frame order"),
])
def test_bad_frames_or_thumbnails_are_refused_and_store_nothing(searcher, rng, change, fragment):
    vectors = random_unit(rng, SCENES)
    with pytest.raises(InvalidArgument, match=fragment):
        searcher.upsert_video(make_video("v", SCENES), make_scenes(SCENES), vectors, extras=change(extras_for("v", vectors, rng)))
    assert searcher.store.get_video("v") is None and not list(searcher.store.leveldb.db.iterator(prefix=b"thumb/"))


def test_thumbnail_size_limit_is_a_setting(tmp_path, rng):
    searcher = open_searcher(tmp_path / "d", ann="none", max_thumbnail_bytes=100)
    try:
        with pytest.raises(InvalidArgument, match="over the limit of 100"):
            add(searcher, "v", random_unit(rng, SCENES), rng)
    finally:
        searcher.close()


def test_query_images_are_decoded_defensively():
    png = io.BytesIO()
    Image.new("RGB", (5000, 5000)).save(png, "PNG")  # a 25-megapixel image in a few KB
    with pytest.raises(InvalidArgument, match="over the limit of 1000000"):
        decode_image(png.getvalue(), ImageLimits(max_pixels=1_000_000))
    with pytest.raises(InvalidArgument, match="over the limit of 100"):
        decode_image(jpeg(), ImageLimits(max_bytes=100))
    with pytest.raises(InvalidArgument, match="neither JPEG nor PNG"):
        decode_image(b"GIF89a....")
    with pytest.raises(InvalidArgument, match="could not be decoded"):
        decode_image(jpeg()[:40])
    with pytest.raises(InvalidArgument, match="empty"):
        decode_image(b"")
    assert decode_image(jpeg(size=(32, 24))).shape == (24, 32, 3)


def test_an_image_term_without_an_embedder_is_unavailable(searcher, rng):
    from videosearch.common.errors import Unavailable

    add(searcher, "v", random_unit(rng, SCENES))
    with pytest.raises(Unavailable, match="no Embedder"):
        searcher.search(terms=[QueryTerm(image=jpeg())])
    with pytest.raises(InvalidArgument, match="neither JPEG nor PNG"):  # bad bytes are refused before that
        searcher.search(terms=[QueryTerm(image=b"not an image")])


def test_get_video_vectors_gives_moment_and_scene_embeddings(searcher, rng):
    vectors = random_unit(rng, SCENES)
    add(searcher, "v", vectors)
    _, scenes, moments, rows = searcher.get_video_vectors("v")
    assert np.allclose(rows, vectors, atol=1e-6)
    assert np.allclose(searcher.scene_vectors(scenes, moments, rows), vectors, atol=1e-6)


def test_a_schema_2_store_is_upgraded_in_place(tmp_path, rng):
    """A store exactly as schema 2 wrote it (moments, no frames/ or thumb/ keys)."""
    vectors = write_old_store(tmp_path / "data", 2, rng)
    searcher = open_searcher(tmp_path / "data", ann="none")
    try:
        assert int(searcher.store.leveldb.db.get(b"meta/schema")) == SCHEMA_VERSION == 4
        hit = searcher.search(vector=vectors[1], params=SearchParams(mode="scenes", top_k=1, explain=True)).scenes[0]
        assert (hit.video_id, hit.scene.index) == ("old", 1) and hit.explanation.best_frame_index == -1
        with pytest.raises(NotFound, match="re-index"):
            searcher.get_thumbnail("old", 0)
        add(searcher, "new", random_unit(rng, SCENES), rng)
    finally:
        searcher.close()
    report = fsck.check_store(tmp_path / "data")
    assert report.whole and report.schema == 4, report.summary()


def test_open_uris_for_paths_and_other_uris():
    from videosearch.searcher.ranking.hits import open_uri

    assert open_uri("/v/a b#1.mp4", 12.5) == "file:///v/a%20b%231.mp4#t=12.5"
    assert open_uri("/v/a.mp4", 0.0) == "file:///v/a.mp4#t=0"
    assert open_uri("https://host/v.mp4#old", 3.25) == "https://host/v.mp4#t=3.25"


def test_a_folder_filter_follows_new_locations_and_new_videos(searcher, rng):
    q = random_unit(rng, 1)[0]
    add(searcher, "a", random_unit(rng, SCENES), path="/videos/old/a.mp4")
    folder = SearchParams(filter=SearchFilter(folder="/videos/new"))
    assert searcher.search(vector=q, params=folder).videos == []  # builds the filter's table
    searcher.update_locations("a", (VideoLocation("/videos/new/a.mp4"),))
    assert [h.video.video_id for h in searcher.search(vector=q, params=folder).videos] == ["a"]
    add(searcher, "b", random_unit(rng, SCENES), path="/videos/new/b.mp4")
    assert sorted(h.video.video_id for h in searcher.search(vector=q, params=folder).videos) == ["a", "b"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_damaged_images_are_refused_as_invalid_never_crash(fmt):
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(out, fmt)
    good = out.getvalue()
    for _ in range(150):
        damaged = bytearray(good[: int(rng.integers(8, len(good) + 1))])
        for at in rng.integers(8, max(9, len(damaged)), int(rng.integers(0, 6))):
            if at < len(damaged):
                damaged[at] = int(rng.integers(0, 256))
        try:
            rgb = decode_image(bytes(damaged))
        except InvalidArgument as exc:
            assert "JPEG or PNG" in str(exc)
        else:
            assert rgb.ndim == 3 and rgb.shape[2] == 3
