// google.protobuf.Timestamp <-> Date. Timestamps arrive as { seconds: "<int64 string>",
// nanos: <int> } (an unset one as null); a Date keeps milliseconds, so the
// sub-millisecond part of nanos is dropped.
import { int64ToNumber } from './int64.js';

/**
 * @param {{seconds: string | number | bigint, nanos?: number} | null | undefined} timestamp
 * @returns {Date | null} null for an unset timestamp
 */
export function timestampToDate(timestamp) {
  if (timestamp == null) return null;
  const nanos = timestamp.nanos ?? 0;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new RangeError(`Timestamp.nanos ${nanos} is outside 0..999999999`);
  }
  return new Date(int64ToNumber(timestamp.seconds) * 1000 + Math.floor(nanos / 1e6));
}

/**
 * @param {Date} date
 * @returns {{seconds: string, nanos: number}} nanos always in 0..999999999, also before 1970
 */
export function dateToTimestamp(date) {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 };
}
