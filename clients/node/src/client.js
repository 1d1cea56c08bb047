// Promise-based clients for the three videosearch services and the health check.
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from './protos.js';

/** The services' full names, as health checks and reflection know them. */
export const SERVICE_NAMES = Object.freeze({
  indexer: 'videosearch.v1.IndexerService',
  embedder: 'videosearch.v1.EmbedderService',
  searcher: 'videosearch.v1.SearcherService',
});

const DEFAULT_DEADLINE_MS = 30_000;

function callOptions(options) {
  const deadlineMs = options.deadlineMs === undefined ? DEFAULT_DEADLINE_MS : options.deadlineMs;
  return deadlineMs === null ? {} : { deadline: new Date(Date.now() + deadlineMs) };
}

function lowerFirst(name) {
  return name[0].toLowerCase() + name.slice(1);
}

/**
 * A client for one service whose methods are named in camelCase after the RPCs:
 * unary RPCs return Promises of the response (rejected with a grpc-js ServiceError
 * that has `code` and `details`); server-streaming RPCs return the call, an async
 * iterable of responses; client- and bidi-streaming RPCs return the grpc-js call.
 * Every method takes (request, { deadlineMs, metadata }); deadlineMs defaults to 30 s
 * for unary RPCs and to none for streams, null means none.
 */
export class ServiceClient {
  /**
   * @param {string} fullName e.g. "videosearch.v1.SearcherService"
   * @param {string} address host:port
   * @param {{credentials?: grpc.ChannelCredentials, channelOptions?: object}} [options]
   */
  constructor(fullName, address, options = {}) {
    const Service = fullName.split('.').reduce((node, part) => node?.[part], loadProtos());
    if (typeof Service !== 'function') throw new Error(`no service ${fullName} in the loaded protos`);
    this.address = address;
    this.stub = new Service(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
    for (const [name, method] of Object.entries(Service.service)) {
      const call = this.stub[name].bind(this.stub);
      this[lowerFirst(name)] = (request = {}, options = {}) => {
        const metadata = options.metadata ?? new grpc.Metadata();
        if (method.requestStream) return call(metadata, callOptions({ deadlineMs: null, ...options }));
        if (method.responseStream) return call(request, metadata, callOptions({ deadlineMs: null, ...options }));
        return new Promise((resolve, reject) =>
          call(request, metadata, callOptions(options), (error, response) => (error ? reject(error) : resolve(response))),
        );
      };
    }
  }

  /** Closes the channel; pending calls fail with CANCELLED. */
  close() {
    this.stub.close();
  }
}

/**
 * The serving status of a service ("SERVING", "NOT_SERVING", ...), by the standard
 * gRPC health check.
 * @param {string} address host:port
 * @param {string} [service] full service name; empty for the whole server
 * @param {{deadlineMs?: number}} [options]
 * @returns {Promise<string>}
 */
export async function checkHealth(address, service = '', options = {}) {
  const health = new ServiceClient('grpc.health.v1.Health', address, options);
  try {
    return (await health.check({ service }, options)).status;
  } finally {
    health.close();
  }
}

/**
 * Watches an index job until it finishes, calling onUpdate with each snapshot.
 * @param {ServiceClient} indexer
 * @param {string} jobId
 * @param {(job: object) => void} [onUpdate]
 * @returns {Promise<object>} the final IndexJob (state JOB_STATE_SUCCEEDED, _FAILED or _CANCELLED)
 */
export async function watchJobUntilDone(indexer, jobId, onUpdate = () => {}) {
  let last;
  for await (const { job } of indexer.watchIndexJob({ job_id: jobId })) {
    onUpdate(job);
    last = job;
  }
  if (!last) throw new Error(`WatchIndexJob ended without a snapshot of job ${jobId}`);
  return last;
}

/**
 * Embeds image chunks over one StreamEmbedImages call (for batches above the per-request
 * limits): writes every chunk, then resolves with one response per chunk, in order.
 * @param {ServiceClient} embedder
 * @param {object[]} pixelTensors (N, 3, H, W) Tensors, each at most max_images_per_request images
 * @param {{deadlineMs?: number | null}} [options]
 * @returns {Promise<object[]>} StreamEmbedImagesResponse per chunk
 */
export function streamEmbedImageChunks(embedder, pixelTensors, options = {}) {
  return new Promise((resolve, reject) => {
    const responses = [];
    const call = embedder.streamEmbedImages({}, options);
    call.on('data', (response) => responses.push(response));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    for (const pixel_values of pixelTensors) call.write({ pixel_values });
    call.end();
  });
}

/**
 * Clients for the three services.
 * @param {{indexer?: string, embedder?: string, searcher?: string}} addresses host:port of each service to use
 * @param {{credentials?: grpc.ChannelCredentials, channelOptions?: object}} [options]
 * @returns {{indexer?: ServiceClient, embedder?: ServiceClient, searcher?: ServiceClient, close(): void}}
 */
export function connect(addresses, options = {}) {
  const clients = {};
  for (const [role, address] of Object.entries(addresses)) {
    if (!(role in SERVICE_NAMES)) throw new Error(`unknown service ${role}; use indexer, embedder or searcher`);
    if (address) clients[role] = new ServiceClient(SERVICE_NAMES[role], address, options);
  }
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}
