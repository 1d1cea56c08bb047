// @videosearch/client: a small Node.js client over the videosearch protos.
export { connect, checkHealth, watchJobUntilDone, streamEmbedImageChunks, ServiceClient, SERVICE_NAMES } from './client.js';
export { loadProtos, protosDir, LOADER_OPTIONS } from './protos.js';
export {
  tensorToFloat32Array, tensorRows, tensorShape, float32ArrayToTensor, uint8ArrayToTensor, float16BitsToNumber, DTYPE_SIZES,
} from './tensors.js';
export { int64ToNumber, int64ToBigInt, toInt64 } from './int64.js';
export { timestampToDate, dateToTimestamp } from './timestamps.js';
export { status } from '@grpc/grpc-js';
