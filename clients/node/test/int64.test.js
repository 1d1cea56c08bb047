import assert from 'node:assert/strict';
import test from 'node:test';
import { int64ToBigInt, int64ToNumber, loadProtos, toInt64 } from '../src/index.js';

test('int64 fields arrive as exact decimal strings, also past 2^53', () => {
  const method = loadProtos().videosearch.v1.SearcherService.service.GetVideo;
  const big = '9007199254740993'; // 2^53 + 1: a JS number would round it to 2^53
  const wire = method.responseSerialize({ video: { video_id: 'v', frame_count: big, fps_numerator: '30000' } });
  const { video } = method.responseDeserialize(wire);
  assert.equal(video.frame_count, big);
  assert.equal(int64ToBigInt(video.frame_count), 9007199254740993n);
  assert.equal(int64ToNumber(video.fps_numerator), 30000);
  assert.throws(() => int64ToNumber(video.frame_count), /does not fit a JS number exactly; use int64ToBigInt/);
});

test('int64 helpers accept numbers, BigInts and strings, and refuse what is not an int64', () => {
  assert.equal(int64ToNumber(-12), -12);
  assert.equal(int64ToNumber(7n), 7);
  assert.equal(toInt64(2n ** 63n - 1n), '9223372036854775807');
  assert.equal(toInt64(5), '5');
  assert.throws(() => toInt64(2n ** 63n), /outside the int64 range/);
  assert.throws(() => toInt64(1.5), /not an exact integer/);
  assert.throws(() => int64ToBigInt('12abc'), /not a decimal int64/);
});
