// videosearch.v1.Tensor <-> typed arrays. A Tensor is { dtype: "DATA_TYPE_…",
// shape: [int64 strings], data: Buffer } holding row-major little-endian elements.
//
// A Buffer that gRPC hands over is usually a slice of a larger receive buffer at any
// byteOffset, and `new Float32Array(buffer, offset)` throws unless the offset is a
// multiple of 4: tensorToFloat32Array copies in that case instead of failing.
import os from 'node:os';
import { int64ToNumber } from './int64.js';

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/** Bytes per element of each wire dtype. */
export const DTYPE_SIZES = Object.freeze({ DATA_TYPE_FLOAT32: 4, DATA_TYPE_FLOAT16: 2, DATA_TYPE_UINT8: 1 });

/**
 * A tensor's shape as numbers, checked against the size of its data.
 * @param {{dtype: string, shape: Array<string|number|bigint>, data: Uint8Array}} tensor
 * @param {Array<number|null>} [expected] dimensions to check; null matches any length
 * @returns {number[]}
 */
export function tensorShape(tensor, expected) {
  const itemSize = DTYPE_SIZES[tensor.dtype];
  if (itemSize === undefined) {
    throw new TypeError(`tensor dtype ${tensor.dtype} is not one of ${Object.keys(DTYPE_SIZES).join(', ')}`);
  }
  const shape = (tensor.shape ?? []).map(int64ToNumber);
  if (shape.length === 0 || shape.some((d) => d < 0)) throw new RangeError(`tensor shape [${shape}] is invalid`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count * itemSize !== tensor.data.byteLength) {
    throw new RangeError(`tensor data has ${tensor.data.byteLength} bytes but shape [${shape}] of ${tensor.dtype} needs ${count * itemSize}`);
  }
  if (expected && (expected.length !== shape.length || expected.some((d, i) => d !== null && d !== shape[i]))) {
    throw new RangeError(`tensor shape [${shape}] is not the expected [${expected.map((d) => d ?? '*')}]`);
  }
  return shape;
}

/**
 * A half-precision (IEEE 754 binary16) bit pattern as a number.
 * @param {number} bits
 * @returns {number}
 */
export function float16BitsToNumber(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024); // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * The elements of a FLOAT32, FLOAT16 or UINT8 tensor as a Float32Array, whatever the
 * byteOffset of its data. An aligned FLOAT32 tensor on a little-endian host is viewed
 * without a copy (the array shares memory with tensor.data); everything else is copied.
 * @param {{dtype: string, shape: Array<string|number|bigint>, data: Uint8Array}} tensor
 * @param {{shape?: Array<number|null>}} [options] shape: dimensions the tensor must have
 * @returns {Float32Array}
 */
export function tensorToFloat32Array(tensor, options = {}) {
  const count = tensorShape(tensor, options.shape).reduce((a, b) => a * b, 1);
  const data = tensor.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  switch (tensor.dtype) {
    case 'DATA_TYPE_FLOAT32':
      if (LITTLE_ENDIAN_HOST && data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, count);
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(data);
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'DATA_TYPE_FLOAT16':
      for (let i = 0; i < count; i++) out[i] = float16BitsToNumber(view.getUint16(i * 2, true));
      return out;
    default: // DATA_TYPE_UINT8: tensorShape has refused anything else
      out.set(data);
      return out;
  }
}

/**
 * The rows of a 2-D tensor, such as (N, embedding_dim) embeddings, as Float32Arrays.
 * @param {{dtype: string, shape: Array<string|number|bigint>, data: Uint8Array}} tensor
 * @returns {Float32Array[]}
 */
export function tensorRows(tensor) {
  const [rows, columns] = tensorShape(tensor, [null, null]);
  const values = tensorToFloat32Array(tensor);
  return Array.from({ length: rows }, (_, r) => values.subarray(r * columns, (r + 1) * columns));
}

function checkedShape(length, shape) {
  const dims = shape ?? [length];
  const count = dims.reduce((a, b) => a * b, 1);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== length) {
    throw new RangeError(`shape [${dims}] does not hold ${length} elements`);
  }
  return dims.map(String);
}

/**
 * A FLOAT32 Tensor message from numbers, for example a query vector for Search.
 * @param {Float32Array | number[]} values
 * @param {number[]} [shape] defaults to [values.length]
 * @returns {{dtype: string, shape: string[], data: Buffer}}
 */
export function float32ArrayToTensor(values, shape) {
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  const dims = checkedShape(floats.length, shape);
  let data;
  if (LITTLE_ENDIAN_HOST) {
    data = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  } else {
    data = Buffer.alloc(floats.length * 4);
    floats.forEach((v, i) => data.writeFloatLE(v, i * 4));
  }
  return { dtype: 'DATA_TYPE_FLOAT32', shape: dims, data };
}

/**
 * A UINT8 Tensor message, for example (N, 3, H, W) RGB pixels for EmbedImages.
 * @param {Uint8Array | number[]} values
 * @param {number[]} shape
 * @returns {{dtype: string, shape: string[], data: Buffer}}
 */
export function uint8ArrayToTensor(values, shape) {
  const bytes = values instanceof Uint8Array ? values : Uint8Array.from(values);
  const dims = checkedShape(bytes.length, shape);
  return { dtype: 'DATA_TYPE_UINT8', shape: dims, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
