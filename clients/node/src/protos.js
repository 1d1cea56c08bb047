// Loads the videosearch .proto files at run time with @grpc/proto-loader.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, '..');

/**
 * Where the videosearch protos are: $VIDEOSEARCH_PROTOS when set, else the copy a
 * packed package ships in `protos/`, else the repository's `protos/` two levels up
 * (this package lives in clients/node/ of the repository).
 * @returns {string}
 */
export function protosDir() {
  const candidates = [process.env.VIDEOSEARCH_PROTOS, path.join(packageRoot, 'protos'), path.resolve(packageRoot, '..', '..', 'protos')];
  for (const dir of candidates) {
    if (dir && fs.existsSync(path.join(dir, 'videosearch', 'v1', 'searcher.proto'))) return dir;
  }
  throw new Error(
    `videosearch protos not found (looked in ${candidates.filter(Boolean).join(', ')}); ` +
      'set VIDEOSEARCH_PROTOS to the protos/ directory of the videosearch repository',
  );
}

/**
 * How messages look in JavaScript. Field names keep their proto spelling
 * (snake_case, as in the docs); enums are their names ("JOB_STATE_SUCCEEDED");
 * int64 fields are decimal strings (see int64.js: a JS number loses precision past
 * 2^53, and strings survive JSON); bytes are Buffers; unset fields have their
 * defaults; a set oneof names its member in a virtual field (`query: "text"`).
 */
export const LOADER_OPTIONS = Object.freeze({ keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true });

const FILES = ['embedder', 'indexer', 'searcher', 'tensor', 'video'].map((name) => `videosearch/v1/${name}.proto`);

let loaded;

/**
 * The gRPC package object of every videosearch service and the health service,
 * loaded once: `{ videosearch: { v1: {...} }, grpc: { health: { v1: {...} } } }`.
 * @returns {grpc.GrpcObject}
 */
export function loadProtos() {
  if (!loaded) {
    const definition = protoLoader.loadSync([...FILES, 'grpc/health/v1/health.proto'], {
      ...LOADER_OPTIONS,
      includeDirs: [protosDir(), path.join(packageRoot, 'proto')],
    });
    loaded = grpc.loadPackageDefinition(definition);
  }
  return loaded;
}
