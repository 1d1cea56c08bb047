#!/usr/bin/env node
// Drives running videosearch services through this package and prints one JSON object
// of what it saw; tests/system/test_node_client.py starts the services and checks it.
// Usage: node scripts/drive-services.js INDEXER SEARCHER EMBEDDER VIDEO_PATH QUERY
import {
  SERVICE_NAMES, checkHealth, connect, float32ArrayToTensor, int64ToNumber, tensorRows, tensorShape, tensorToFloat32Array,
  streamEmbedImageChunks, timestampToDate, uint8ArrayToTensor, watchJobUntilDone,
} from '../src/index.js';

const [indexerAddress, searcherAddress, embedderAddress, videoPath, query] = process.argv.slice(2);
const services = connect({ indexer: indexerAddress, searcher: searcherAddress, embedder: embedderAddress });
const out = {};
try {
  out.health = {};
  for (const [role, address] of [['indexer', indexerAddress], ['searcher', searcherAddress], ['embedder', embedderAddress]]) {
    out.health[role] = await checkHealth(address, SERVICE_NAMES[role]);
  }

  const { job } = await services.indexer.submitIndexJob({ path: videoPath, options: { force: true } });
  const stages = [];
  const done = await watchJobUntilDone(services.indexer, job.job_id, (update) => {
    if (update.stage !== stages.at(-1)) stages.push(update.stage);
  });
  out.job = {
    job_id: done.job_id, state: done.state, stages, video_id: done.video_id, scenes_found: done.scenes_found,
    frames_decoded: int64ToNumber(done.frames_decoded), created: timestampToDate(done.create_time).toISOString(),
    updated: timestampToDate(done.update_time).toISOString(),
  };

  const byText = await services.searcher.search({ text: query, top_k: 3 });
  out.search_text = { videos: byText.videos.map((v) => ({ video_id: v.video.video_id, score: v.score })) };

  // The query alone, as the Searcher embeds a text query: batched with a longer text it would be
  // padded, which changes float rounding and so the score a little.
  const texts = await services.embedder.embedTexts({ texts: [query] });
  const [queryVector] = tensorRows(texts.embeddings);
  out.embed_texts = { shape: tensorShape(texts.embeddings), model_id: texts.model_id, norm: Math.hypot(...queryVector) };

  const byVector = await services.searcher.search({
    embedding: { vector: float32ArrayToTensor(queryVector), model_id: texts.model_id }, top_k: 3,
  });
  out.search_vector = { videos: byVector.videos.map((v) => ({ video_id: v.video.video_id, score: v.score })) };

  const info = await services.embedder.getModelInfo({});
  const { crop_height: height, crop_width: width } = info.preprocessing;
  const pixels = new Uint8Array(2 * 3 * height * width).map((_, i) => (i * 7) % 256); // two synthetic RGB images
  const images = await services.embedder.embedImages({ pixel_values: uint8ArrayToTensor(pixels, [2, 3, height, width]) });
  const imageRows = tensorRows(images.embeddings);
  out.embed_images = {
    shape: tensorShape(images.embeddings), model_id: images.model_id, norms: imageRows.map((row) => Math.hypot(...row)),
    values: tensorToFloat32Array(images.embeddings).length,
  };
  // The same two images as two one-image chunks over StreamEmbedImages.
  const imageBytes = 3 * height * width;
  const chunks = [0, 1].map((i) => uint8ArrayToTensor(pixels.subarray(i * imageBytes, (i + 1) * imageBytes), [1, 3, height, width]));
  const streamed = await streamEmbedImageChunks(services.embedder, chunks);
  out.stream_embed_images = {
    shapes: streamed.map((r) => tensorShape(r.embeddings)),
    max_difference: Math.max(...streamed.flatMap((r, i) => Array.from(tensorRows(r.embeddings)[0], (v, j) => Math.abs(v - imageRows[i][j])))),
  };

  // Pages: the best moments one at a time, following next_page_token, against one call for all.
  const whole = await services.searcher.search({ text: query, mode: 'SEARCH_MODE_SCENES', top_k: 4 });
  const paged = [];
  let token = '';
  for (let page = 0; page < 10; page += 1) {
    const answer = await services.searcher.search({ text: query, mode: 'SEARCH_MODE_SCENES', top_k: 1, page_token: token });
    paged.push(...answer.scenes.map((hit) => `${hit.video_id}:${hit.scene.index}:${hit.moment.index}`));
    token = answer.next_page_token;
    if (!token || paged.length >= whole.scenes.length) break;
  }
  out.pages = { paged, whole: whole.scenes.map((hit) => `${hit.video_id}:${hit.scene.index}:${hit.moment.index}`) };
  const listed = await services.searcher.listVideos({ page_size: 1 });
  out.list_videos = { first_page: listed.videos.map((v) => v.video_id), total_size: listed.total_size };

  // A scene's thumbnail: JPEG bytes (a Buffer), its size and where in the video it was taken.
  const { thumbnail } = await services.searcher.getSceneThumbnail({ video_id: done.video_id, scene_index: 0 });
  out.thumbnail = {
    jpeg_start: thumbnail.image_jpeg.subarray(0, 3).toString('hex'), bytes: thumbnail.image_jpeg.length,
    width: thumbnail.width, height: thumbnail.height, frame: int64ToNumber(thumbnail.frame), seconds: thumbnail.seconds,
  };

  try {
    await services.searcher.listVideos({ page_token: 'not-a-token' });
    out.bad_page_token = 'accepted';
  } catch (error) {
    out.bad_page_token = { code: error.code, details: error.details };
  }
} finally {
  services.close();
}
console.log(JSON.stringify(out));
