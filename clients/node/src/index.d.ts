// Types for @videosearch/client. Messages are plain objects shaped as LOADER_OPTIONS
// describes (proto field names, enum names as strings, int64 as decimal strings).
import type { ChannelCredentials, ClientReadableStream, GrpcObject, Metadata, status } from '@grpc/grpc-js';

export { status };

/** An int64 as the loader gives it (decimal string) or as a caller may pass it. */
export type Int64 = string | number | bigint;

/** videosearch.v1.Tensor: row-major little-endian elements. */
export interface Tensor {
  dtype: 'DATA_TYPE_UNSPECIFIED' | 'DATA_TYPE_FLOAT32' | 'DATA_TYPE_FLOAT16' | 'DATA_TYPE_UINT8';
  shape: Int64[];
  data: Uint8Array;
}

/** videosearch.v1.TextSpan: words said (subtitles, speech) or written on screen (OCR) over a time range. */
export interface TextSpan {
  kind: 'TEXT_KIND_UNSPECIFIED' | 'TEXT_KIND_SAID' | 'TEXT_KIND_WRITTEN';
  start_seconds: number;
  end_seconds: number;
  text: string;
  /** BCP-47 tag ("en", "zh"); "" when unknown. */
  language: string;
  source: 'TEXT_SOURCE_UNSPECIFIED' | 'TEXT_SOURCE_SUBTITLE_STREAM' | 'TEXT_SOURCE_SIDECAR' | 'TEXT_SOURCE_SPEECH' | 'TEXT_SOURCE_OCR';
  /** Where written text is on screen, as fractions of the picture; null when unknown or said. */
  box: { x: number; y: number; width: number; height: number } | null;
}

/** videosearch.v1.TextMatch: a hit's span holding the query's words; highlights count Unicode code points. */
export interface TextMatch {
  span: TextSpan;
  highlights: { start: number; end: number }[];
  score: number;
}

/** What found a hit (SceneMatch.matched_kinds) or what to search (SearchRequest.kinds). */
export type MatchKind = 'MATCH_KIND_SEEN' | 'MATCH_KIND_SAID' | 'MATCH_KIND_WRITTEN';

/** google.protobuf.Timestamp. */
export interface Timestamp {
  seconds: Int64;
  nanos?: number;
}

export interface CallOptions {
  /** Deadline in milliseconds from now; 30 s for unary RPCs and none for streams by default; null: none. */
  deadlineMs?: number | null;
  metadata?: Metadata;
}

/** Unary RPCs return Promises, server-streaming RPCs async-iterable calls. Methods are camelCase RPC names. */
export class ServiceClient {
  constructor(fullName: string, address: string, options?: ConnectOptions);
  readonly address: string;
  close(): void;
  [method: string]: any;
}

export interface ConnectOptions {
  credentials?: ChannelCredentials;
  channelOptions?: Record<string, unknown>;
}

export interface Services {
  indexer?: ServiceClient;
  embedder?: ServiceClient;
  searcher?: ServiceClient;
  close(): void;
}

export const SERVICE_NAMES: Readonly<{ indexer: string; embedder: string; searcher: string }>;
export function connect(addresses: { indexer?: string; embedder?: string; searcher?: string }, options?: ConnectOptions): Services;
export function checkHealth(address: string, service?: string, options?: CallOptions & ConnectOptions): Promise<string>;
export function streamEmbedImageChunks(embedder: ServiceClient, pixelTensors: Tensor[], options?: CallOptions): Promise<any[]>;
export function watchJobUntilDone(indexer: ServiceClient, jobId: string, onUpdate?: (job: any) => void): Promise<any>;

export function protosDir(): string;
export function loadProtos(): GrpcObject;
export const LOADER_OPTIONS: Readonly<Record<string, unknown>>;

export const DTYPE_SIZES: Readonly<Record<string, number>>;
export function tensorShape(tensor: Tensor, expected?: Array<number | null>): number[];
export function tensorToFloat32Array(tensor: Tensor, options?: { shape?: Array<number | null> }): Float32Array;
export function tensorRows(tensor: Tensor): Float32Array[];
export function float32ArrayToTensor(values: Float32Array | number[], shape?: number[]): Tensor & { shape: string[]; data: Buffer };
export function uint8ArrayToTensor(values: Uint8Array | number[], shape: number[]): Tensor & { shape: string[]; data: Buffer };
export function float16BitsToNumber(bits: number): number;

export function int64ToNumber(value: Int64): number;
export function int64ToBigInt(value: Int64): bigint;
export function toInt64(value: Int64): string;

export function timestampToDate(timestamp: Timestamp | null | undefined): Date | null;
export function dateToTimestamp(date: Date): { seconds: string; nanos: number };

export type { ClientReadableStream };
