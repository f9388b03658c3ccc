import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors.js';

/**
 * Request bodies over this are refused with 413 before anything parses them.
 * Yoga's own limit (25 MB by default, with a code outside the contract) never comes into play.
 */
export const MAX_BODY_BYTES = 100 * 1024;

/**
 * The whole body, or null when it is over `limit`. Bytes are counted as they
 * arrive: a chunked body declares no length.
 */
async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > limit) {
      // Stop reading; the 413 asks the client to close the connection.
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
}

/**
 * The request with its body read under the limit, as a new Request that keeps
 * the original's signal (streams end when the client disconnects), built with
 * the server's own Request class (Yoga's fetch API under Node). Throws
 * PAYLOAD_TOO_LARGE, or BAD_USER_INPUT when the body cannot be read.
 */
export async function withBodyLimit(
  request: Request,
  RequestClass: typeof Request = Request,
  limit = MAX_BODY_BYTES,
): Promise<Request> {
  if (request.method === 'GET' || request.method === 'HEAD') return request;
  // A declared length frames the body (the HTTP parser reads exactly that many
  // bytes), so within the limit the request passes on untouched: no copy, no
  // second Request, for every ordinary client. Only a chunked body is counted.
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared)) {
    if (Number(declared) > limit) throw new AppError('PAYLOAD_TOO_LARGE');
    return request;
  }
  let body: Uint8Array<ArrayBuffer> | null;
  try {
    body = await readBodyWithin(request, limit);
  } catch {
    // The client went away mid-body; nobody reads this answer.
    throw new AppError('BAD_USER_INPUT', 'The request body could not be read');
  }
  if (body === null) throw new AppError('PAYLOAD_TOO_LARGE');
  return new RequestClass(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
}

/**
 * A Node request's body read ahead as bytes, when its declared length is within
 * `limit` (and not zero): the server adapter then takes them (as it takes a
 * body a framework read) instead of listening on the request for it. Bytes,
 * not text: a body that is not UTF-8 must still be refused as such. Those
 * listeners stay on the request for as long as the connection lives, holding
 * the whole fetch Request: for an event stream, its whole life. Null, having
 * read nothing, for any other request (chunked, empty, or over the limit: the
 * pipeline's withBodyLimit answers those).
 */
export async function readDeclaredBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer | null> {
  const declared = req.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared) || Number(declared) === 0 || Number(declared) > limit) return null;
  // Plain listeners, taken off at the end: an async iterator over the request
  // would leave its end-of-stream watchers on it.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => void chunks.push(chunk);
    const done = (error?: Error): void => {
      req.off('data', onData).off('end', done).off('error', done).off('close', closed);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const closed = (): void => done(new Error('The client closed the connection mid-body'));
    req.on('data', onData).once('end', done).once('error', done).once('close', closed);
  });
}

/**
 * How much of a refused body is read and thrown away after its 413, and for
 * how long at most, before the connection is cut (nginx's lingering close).
 */
export const LINGER_MAX_BYTES = 16 * 1024 * 1024;
export const LINGER_MAX_MS = 5_000;

/** Could this request's body be refused with 413: a declared length over the limit, or a body without one (chunked)? */
export function mayBeRefusedBody(req: IncomingMessage, limit = MAX_BODY_BYTES): boolean {
  const declared = req.headers['content-length'];
  if (declared !== undefined) return Number(declared) > limit;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * After a 413, reads and discards the rest of the body (up to
 * LINGER_MAX_BYTES, for at most LINGER_MAX_MS) instead of closing at once.
 * Closed at once, the connection was reset while the client was still sending
 * its body: the reset threw away the answer before the client read it, and a
 * fetch client failed with EPIPE ("fetch failed") in most tries instead of
 * reading its 413. Once the body has been read, the connection goes on as
 * any keep-alive connection; past either bound it is cut, so that a client
 * cannot hold it by sending without end.
 */
export function lingerAfterRefusal(req: IncomingMessage, res: ServerResponse, bounds = { bytes: LINGER_MAX_BYTES, ms: LINGER_MAX_MS }): void {
  res.once('finish', () => {
    if (res.statusCode !== 413 || req.complete) return;
    let left = bounds.bytes;
    const cut = (): void => {
      clearTimeout(timer);
      req.socket.destroy();
    };
    const timer = setTimeout(cut, bounds.ms);
    const done = (): void => clearTimeout(timer);
    // Whoever read the body before (the body limit) reads no more: the bytes are only counted now.
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      left -= chunk.length;
      if (left < 0) cut();
    });
    req.once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}
