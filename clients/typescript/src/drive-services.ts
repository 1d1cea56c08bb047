// Drives running services through the generated TypeScript client and prints one JSON object
// of what it saw; tests/system/test_typescript_client.py starts the services and checks it.
// Usage: node dist/drive-services.js VIDEO_PATH QUERY  (addresses from VIDEOSEARCH_*_ADDRESS)
import { JobState, SubmitIndexJobRequest, WatchIndexJobRequest, jobStateToJSON, type IndexJob } from "./gen/videosearch/v1/indexer.js";
import { GetSceneThumbnailRequest, ListVideosRequest, SearchMode, SearchRequest } from "./gen/videosearch/v1/searcher.js";
import { connect, unary } from "./index.js";

const [videoPath, query] = process.argv.slice(2);
if (!videoPath || !query) {
  console.error("usage: node dist/drive-services.js VIDEO_PATH QUERY");
  process.exit(2);
}
const services = connect();
try {
  const { indexer, searcher } = services;
  const submitted = await unary(indexer.submitIndexJob.bind(indexer), SubmitIndexJobRequest.fromPartial({ path: videoPath }));
  const states: string[] = [];
  let last: IndexJob | undefined;
  for await (const update of indexer.watchIndexJob(WatchIndexJobRequest.fromPartial({ jobId: submitted.job!.jobId }))) {
    last = update.job;
    const state = jobStateToJSON(last!.state);
    if (state !== states.at(-1)) states.push(state);
  }
  if (!last || last.state !== JobState.JOB_STATE_SUCCEEDED) throw new Error(`the job ended ${states.at(-1)}: ${last?.error}`);
  const framesDecoded: bigint = last.framesDecoded; // int64 as bigint: exact
  const job = { videoId: last.videoId, states, scenesFound: last.scenesFound, framesDecoded: framesDecoded.toString(),
                created: last.createTime?.toISOString(), skipped: last.skipped };

  const search = searcher.search.bind(searcher);
  const byText = await unary(search, SearchRequest.fromPartial({ text: query, topK: 2 }));
  const whole = await unary(search, SearchRequest.fromPartial({ text: query, mode: SearchMode.SEARCH_MODE_SCENES, topK: 4 }));
  const paged: string[] = [];
  let pageToken = "";
  do {
    const page = await unary(search, SearchRequest.fromPartial({ text: query, mode: SearchMode.SEARCH_MODE_SCENES, topK: 1, pageToken }));
    paged.push(...page.scenes.map((hit) => `${hit.videoId}:${hit.scene!.index}:${hit.moment!.index}`));
    pageToken = page.nextPageToken;
  } while (pageToken && paged.length < whole.scenes.length);

  const listed = await unary(searcher.listVideos.bind(searcher), ListVideosRequest.fromPartial({ pageSize: 1 }));
  const { thumbnail } = await unary(searcher.getSceneThumbnail.bind(searcher),
    GetSceneThumbnailRequest.fromPartial({ videoId: last.videoId, sceneIndex: 0 }));
  console.log(JSON.stringify({
    job,
    searchText: byText.videos.map((match) => ({ videoId: match.video!.videoId, uri: match.video!.uri, score: match.score })),
    pages: { paged, whole: whole.scenes.map((hit) => `${hit.videoId}:${hit.scene!.index}:${hit.moment!.index}`) },
    listVideos: { firstPage: listed.videos.map((video) => video.videoId), totalSize: listed.totalSize },
    thumbnail: { jpegStart: Buffer.from(thumbnail!.imageJpeg.subarray(0, 3)).toString("hex"), width: thumbnail!.width,
                 height: thumbnail!.height, bytes: thumbnail!.imageJpeg.length },
  }));
} finally {
  services.close();
}
