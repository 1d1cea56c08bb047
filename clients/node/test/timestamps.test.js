import assert from 'node:assert/strict';
import test from 'node:test';
import { dateToTimestamp, loadProtos, timestampToDate } from '../src/index.js';

test('a Timestamp from the wire becomes a Date, and back', () => {
  const method = loadProtos().videosearch.v1.IndexerService.service.GetIndexJob;
  const when = new Date('2026-11-25T21:07:09.123Z');
  const wire = method.responseSerialize({ job: { job_id: 'j', create_time: dateToTimestamp(when) } });
  const { job } = method.responseDeserialize(wire);
  assert.deepEqual(job.create_time, { seconds: String(when.getTime() / 1000 - 0.123), nanos: 123_000_000 });
  assert.equal(timestampToDate(job.create_time).toISOString(), when.toISOString());
  assert.equal(timestampToDate(job.update_time), null, 'an unset timestamp is null');
});

test('dates before 1970 keep nanos in range; sub-millisecond nanos are dropped', () => {
  const before = new Date(-1500);
  assert.deepEqual(dateToTimestamp(before), { seconds: '-2', nanos: 500_000_000 });
  assert.equal(timestampToDate(dateToTimestamp(before)).getTime(), -1500);
  assert.equal(timestampToDate({ seconds: '1', nanos: 999_999 }).getTime(), 1000);
  assert.throws(() => timestampToDate({ seconds: '1', nanos: 1e9 }), /outside 0..999999999/);
  assert.throws(() => dateToTimestamp(new Date(NaN)), /invalid Date/);
});
