#!/usr/bin/env node
// Indexes a video, shows the job's progress, then searches by text.
//   node example.js /path/to/video.mp4 "a dog digging in a garden"
// Addresses come from $VIDEOSEARCH_INDEXER_ADDRESS and $VIDEOSEARCH_SEARCHER_ADDRESS, the
// variables the CLI reads (defaults are `make up`'s ports; `videosearch-up` prints the
// exports for others). The path must lie under one of the Indexer's --allowed-roots.
import path from 'node:path';
import { connect, timestampToDate, watchJobUntilDone } from './src/index.js';

const [video, query = 'a person walking'] = process.argv.slice(2);
if (!video) {
  console.error('usage: node example.js VIDEO_PATH [QUERY]');
  process.exit(2);
}
const services = connect({
  indexer: process.env.VIDEOSEARCH_INDEXER_ADDRESS || '127.0.0.1:50052',
  searcher: process.env.VIDEOSEARCH_SEARCHER_ADDRESS || '127.0.0.1:50053',
});
try {
  const { job } = await services.indexer.submitIndexJob({ path: path.resolve(video) });
  console.log(`job ${job.job_id} queued at ${timestampToDate(job.create_time).toISOString()}`);
  const done = await watchJobUntilDone(services.indexer, job.job_id, (update) => {
    process.stdout.write(`\r${update.state} ${update.stage} ${update.percent.toFixed(0)}%   `);
  });
  console.log();
  if (done.state !== 'JOB_STATE_SUCCEEDED') throw new Error(`job ended ${done.state}: ${done.error}`);
  if (done.skipped) {
    // Already indexed (same content, or the same unchanged file): nothing was decoded, so the
    // job's own counts are 0; the stored video has the real ones.
    const { video } = await services.searcher.getVideo({ video_id: done.video_id });
    console.log(`already indexed as ${done.video_id}: ${video.scene_count} scenes, ${video.moment_count} moments`);
  } else {
    console.log(`indexed ${done.video_id}: ${done.scenes_found} scenes, ${done.moments_found} moments`);
  }

  const result = await services.searcher.search({ text: query, top_k: 5 });
  // relevance is the calibrated score (0..1, the same scale for every model); weaker than
  // strong_relevance means probably unrelated.
  console.log(`model ${result.model_id}${result.model_notice ? ` (note: ${result.model_notice})` : ''}`);
  for (const [rank, match] of result.videos.entries()) {
    const strength = match.relevance >= result.strong_relevance ? 'strong' : 'weak';
    console.log(`${rank + 1}. relevance ${match.relevance.toFixed(2)} (${strength}, raw ${match.score.toFixed(3)}) ${match.video.uri}`);
    for (const scene of match.scenes) {
      console.log(`     ${scene.moment.start_timecode} - ${scene.moment.end_timecode} (relevance ${scene.relevance.toFixed(2)})`);
    }
  }
} catch (error) {
  console.error(error.details ?? error.message);
  process.exitCode = 1;
} finally {
  services.close();
}
