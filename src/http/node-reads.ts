import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { isStreamReply, writeToNode, type StreamReply } from '../streams/sse.js';
import type { RequestHead, ServerContext } from './handler.js';
import type { Pipeline } from './pipeline.js';
import { errorReply, type JsonReply } from './responses.js';

/** A plain read of the app (JSON or an event stream), found by path (rest-compat's createRestReads). */
export type FindRead = (pathname: string) => ((request: RequestHead, server: ServerContext) => Promise<JsonReply | StreamReply>) | null;

export interface NodeReadsOptions {
  find: FindRead;
  /** The layers every answer passes (src/http/pipeline.ts). */
  pipeline: Pipeline;
  log: Logger;
}

/**
 * A bodiless GET as the fetch pipeline sees it, read straight from Node's
 * message: the same URL the server adapter builds (scheme, Host, path as
 * sent), and the same header values. Null when there is no Host to build it from.
 */
function headOf(req: IncomingMessage): RequestHead | null {
  const host = req.headers.host;
  if (!host) return null;
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
  return {
    method: 'GET',
    url: `${scheme}://${host}${req.url ?? ''}`,
    headers: {
      get(name) {
        const value = req.headers[name];
        return value === undefined ? null : String(value);
      },
    },
  };
}

/**
 * The hot reads (`GET /api/auth/me`, `/sessions`…) and the REST event stream
 * served on Node's own request and response: no fetch Request,
 * AbortController, Response or Headers object is built, and the URL is parsed
 * once instead of three times: those objects are CPU time on every read, and
 * memory an idle event stream would hold for as long as it is open. The answer is
 * the one the fetch pipeline gives, byte for byte: the route's own reply, its
 * errors through the same errorReply, then the headers and the log line of the
 * same pipeline (src/http/pipeline.ts). Returns false, having done nothing, for every other
 * request: those go through the fetch pipeline.
 */
export function createNodeReads(options: NodeReadsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { find, pipeline, log } = options;
  return (req, res) => {
    // A GET that declares a body goes the long way, where the body limit applies.
    if (req.method !== 'GET' || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const request = headOf(req);
    if (request === null) return false;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return false;
    }
    const read = find(url.pathname);
    if (read === null) return false;
    const exchange = pipeline.begin(request, url);
    read(request, { req })
      .catch((error: unknown) => errorReply(error, log))
      .then((reply) => {
        const stream = isStreamReply(reply) ? reply : null;
        const body = isStreamReply(reply) ? null : reply.body;
        const headers: Record<string, string> = { ...reply.headers };
        if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
        Object.assign(headers, exchange.headers(headers['content-type'] ?? null));
        exchange.answered(reply.status);
        // The client may have gone; the line is logged all the same, as the fetch pipeline does.
        if (res.destroyed || res.writableEnded) {
          // A stream opened for it gives its place back.
          stream?.cancel();
          return;
        }
        res.writeHead(reply.status, headers);
        if (stream) writeToNode(stream, res);
        else res.end(body);
      })
      .catch((error: unknown) => {
        exchange.failed(error);
        res.destroy();
      });
    return true;
  };
}
