import assert from 'node:assert/strict';
import test from 'node:test';
import {
  float16BitsToNumber, float32ArrayToTensor, loadProtos, tensorRows, tensorShape, tensorToFloat32Array, uint8ArrayToTensor,
} from '../src/index.js';

/** The bytes of `bytes` placed at `offset` inside a larger ArrayBuffer, as gRPC hands data over. */
function atOffset(bytes, offset) {
  const backing = new Uint8Array(bytes.length + offset + 3);
  backing.set(bytes, offset);
  return Buffer.from(backing.buffer, offset, bytes.length);
}

const VALUES = [0.5, -1.25, 3, Math.fround(1e-3), 42, -0]; // exactly representable in float32

test('a FLOAT32 tensor whose data starts at any byteOffset decodes', () => {
  const tensor = float32ArrayToTensor(VALUES, [2, 3]);
  for (const offset of [0, 1, 2, 3, 5, 8]) {
    const shifted = { ...tensor, data: atOffset(tensor.data, offset) };
    assert.equal(shifted.data.byteOffset % 4 === 0, offset % 4 === 0);
    assert.deepEqual(Array.from(tensorToFloat32Array(shifted)), VALUES, `offset ${offset}`);
  }
});

test('a tensor decoded from a gRPC message sits at an unaligned offset and still decodes', () => {
  const method = loadProtos().videosearch.v1.EmbedderService.service.EmbedTexts;
  const wire = method.responseSerialize({ embeddings: float32ArrayToTensor(VALUES, [2, 3]), model_id: 'm' });
  const { embeddings } = method.responseDeserialize(wire);
  assert.notEqual(embeddings.data.byteOffset % 4, 0, 'protobufjs slices bytes out of the message buffer');
  assert.deepEqual(embeddings.shape, ['2', '3'], 'int64 shape arrives as strings');
  assert.deepEqual(tensorRows(embeddings).map((row) => Array.from(row)), [VALUES.slice(0, 3), VALUES.slice(3)]);
});

test('an aligned FLOAT32 tensor is viewed without a copy', () => {
  const tensor = float32ArrayToTensor(new Float32Array(VALUES));
  const values = tensorToFloat32Array(tensor);
  assert.equal(values.buffer, tensor.data.buffer);
});

test('FLOAT16 tensors decode to Float32Array, subnormals and infinities included', () => {
  const bits = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x7c00, 0x8000];
  const data = Buffer.alloc(bits.length * 2);
  bits.forEach((b, i) => data.writeUInt16LE(b, i * 2));
  const decoded = tensorToFloat32Array({ dtype: 'DATA_TYPE_FLOAT16', shape: ['7'], data: atOffset(data, 1) });
  assert.deepEqual(Array.from(decoded), [1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24), 65504, Infinity, -0]);
  assert.ok(Number.isNaN(float16BitsToNumber(0x7e00)));
});

test('UINT8 tensors decode to their values', () => {
  const tensor = uint8ArrayToTensor([0, 7, 255, 128], [1, 4]);
  assert.deepEqual(Array.from(tensorToFloat32Array({ ...tensor, data: atOffset(tensor.data, 3) })), [0, 7, 255, 128]);
});

test('shape, size and dtype are checked', () => {
  const tensor = float32ArrayToTensor(VALUES, [2, 3]);
  assert.deepEqual(tensorShape(tensor, [null, 3]), [2, 3]);
  assert.throws(() => tensorToFloat32Array(tensor, { shape: [null, 4] }), /not the expected \[\*,4\]/);
  assert.throws(() => tensorToFloat32Array({ ...tensor, shape: ['4', '3'] }), /has 24 bytes but shape \[4,3\]/);
  assert.throws(() => tensorToFloat32Array({ ...tensor, dtype: 'DATA_TYPE_UNSPECIFIED' }), /not one of/);
  assert.throws(() => tensorToFloat32Array({ ...tensor, shape: [] }), /shape \[\] is invalid/);
  assert.throws(() => float32ArrayToTensor(VALUES, [4, 2]), /does not hold 6 elements/);
  assert.throws(() => tensorRows(float32ArrayToTensor(VALUES)), /not the expected/);
});

test('float32ArrayToTensor writes little-endian bytes and string dims', () => {
  const tensor = float32ArrayToTensor([1.5, -2]);
  assert.deepEqual(tensor.shape, ['2']);
  assert.equal(tensor.data.readFloatLE(0), 1.5);
  assert.equal(tensor.data.readFloatLE(4), -2);
});
