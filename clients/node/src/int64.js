// 64-bit integers. The loader gives int64 fields as decimal strings (LOADER_OPTIONS.longs
// = String): exact, JSON-safe, and accepted back by every request field. These turn them
// into numbers or BigInts where a program computes with them.

const DECIMAL = /^-?\d+$/;

/**
 * An int64 field as a JS number; throws RangeError when it is beyond
 * Number.MAX_SAFE_INTEGER (2^53 - 1), where a number would silently round.
 * @param {string | number | bigint | {toString(): string}} value string, number, BigInt or Long
 * @returns {number}
 */
export function int64ToNumber(value) {
  const big = int64ToBigInt(value);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`int64 ${big} does not fit a JS number exactly; use int64ToBigInt`);
  }
  return Number(big);
}

/**
 * An int64 field as a BigInt (exact for every int64).
 * @param {string | number | bigint | {toString(): string}} value
 * @returns {bigint}
 */
export function int64ToBigInt(value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not an exact integer`);
    return BigInt(value);
  }
  const text = String(value);
  if (!DECIMAL.test(text)) throw new TypeError(`${JSON.stringify(text)} is not a decimal int64`);
  return BigInt(text);
}

/**
 * A value for an int64 request field: the decimal string of a safe integer number,
 * a BigInt or a decimal string, checked to lie in the int64 range.
 * @param {number | bigint | string} value
 * @returns {string}
 */
export function toInt64(value) {
  const big = int64ToBigInt(value);
  if (big >= 2n ** 63n || big < -(2n ** 63n)) throw new RangeError(`${big} is outside the int64 range`);
  return big.toString();
}
