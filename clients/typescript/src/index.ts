// A typed client for the videosearch services: the generated stubs (src/gen, ts-proto over
// @grpc/grpc-js) with their addresses from the CLI's environment variables, and a promise
// helper for unary calls. Field names are camelCase here (jobId) and snake_case on the wire
// (job_id); ts-proto encodes binary protobuf, where names never travel.
import {
  Metadata, credentials, type CallOptions, type ChannelCredentials, type ClientUnaryCall, type ServiceError,
} from "@grpc/grpc-js";
import { EmbedderServiceClient } from "./gen/videosearch/v1/embedder.js";
import { IndexerServiceClient } from "./gen/videosearch/v1/indexer.js";
import { SearcherServiceClient } from "./gen/videosearch/v1/searcher.js";

export { EmbedderServiceClient, IndexerServiceClient, SearcherServiceClient };

/** The addresses the CLI reads too (`videosearch-up` prints them for non-default ports). */
export const ADDRESS_ENV = {
  indexer: "VIDEOSEARCH_INDEXER_ADDRESS",
  searcher: "VIDEOSEARCH_SEARCHER_ADDRESS",
  embedder: "VIDEOSEARCH_EMBEDDER_ADDRESS",
} as const;

export const DEFAULT_ADDRESSES = { indexer: "127.0.0.1:50052", searcher: "127.0.0.1:50053", embedder: "127.0.0.1:50051" };

export interface Services {
  indexer: IndexerServiceClient;
  searcher: SearcherServiceClient;
  embedder: EmbedderServiceClient;
  close(): void;
}

/** Clients of the three services: addresses given, else from the environment, else the defaults. */
export function connect(
  addresses: Partial<Record<keyof typeof ADDRESS_ENV, string>> = {},
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): Services {
  const where = (role: keyof typeof ADDRESS_ENV) => addresses[role] || process.env[ADDRESS_ENV[role]] || DEFAULT_ADDRESSES[role];
  const indexer = new IndexerServiceClient(where("indexer"), channelCredentials);
  const searcher = new SearcherServiceClient(where("searcher"), channelCredentials);
  const embedder = new EmbedderServiceClient(where("embedder"), channelCredentials);
  return { indexer, searcher, embedder, close: () => [indexer, searcher, embedder].forEach((c) => c.close()) };
}

/** A generated unary method, by its last overload (request, metadata, options, callback). */
type UnaryMethod<Request, Response> = (
  request: Request, metadata: Metadata, options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Response) => void,
) => ClientUnaryCall;

/**
 * A unary call as a typed Promise, with a deadline (30 s unless given):
 * `await unary(searcher.search.bind(searcher), SearchRequest.fromPartial({ text: "a dog", topK: 5 }))`.
 * Rejects with the grpc-js ServiceError (`code`, `details`).
 */
export function unary<Request, Response>(
  method: UnaryMethod<Request, Response>, request: Request, options: Partial<CallOptions> = {},
): Promise<Response> {
  const callOptions = { deadline: Date.now() + 30_000, ...options };
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), callOptions, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
