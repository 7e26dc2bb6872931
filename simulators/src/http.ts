import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TSchema, Static } from 'typebox';
import { Value } from 'typebox/value';
import { validationProblems } from './validation.js';

/** Thrown by a route to answer `status` with `{message, errors?}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: string[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** One request as a route sees it. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The `:param` segment of the route's path, decoded; '' when the route has none. */
  param: string;
  /** Aborted when the client goes away or the simulator closes, so a pending delay stops at once. */
  signal: AbortSignal;
}

/** A route: `path` is literal segments with at most one trailing `:param` segment, e.g. `/products/:code`. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle: (exchange: Exchange) => Promise<void>;
}

/** What a simulator reports about each request once it is answered or abandoned (main.ts logs it). */
export interface RequestLogEntry {
  simulator: string;
  method: string;
  url: string;
  /** Undefined when no answer was sent. */
  status: number | undefined;
  durationMs: number;
  /** True when the response never completed: the client went away or the simulator closed. */
  aborted: boolean;
}

/** Where and how one simulator listens. */
export interface ListenOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  onRequest?: (entry: RequestLogEntry) => void;
}

/** A listening simulator. */
export interface RunningSimulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  /** Stops listening and drops pending requests and their timers, so nothing keeps the process alive. */
  close(): Promise<void>;
}

/** Starts an HTTP server for `routes`, with `GET /health`, JSON errors, and a close that cancels delays. */
export async function startHttpSimulator(
  name: string,
  routes: Route[],
  options: ListenOptions,
): Promise<RunningSimulator> {
  const allRoutes: Route[] = [{ method: 'GET', path: '/health', handle: health }, ...routes];
  // Every response not yet closed, with what cancels its delay, so close() can drop them all.
  const pending = new Map<ServerResponse, AbortController>();

  const server = createServer((req, res) => {
    const startedAt = performance.now();
    const cancel = new AbortController();
    pending.set(res, cancel);
    res.on('close', () => {
      pending.delete(res);
      if (!res.writableFinished) cancel.abort();
      options.onRequest?.({
        simulator: name,
        method: req.method ?? '',
        url: req.url ?? '',
        status: res.headersSent ? res.statusCode : undefined,
        durationMs: Math.round(performance.now() - startedAt),
        aborted: !res.writableFinished,
      });
    });
    const { signal } = cancel;
    dispatch(allRoutes, req, res, signal).catch((error: unknown) => {
      if (signal.aborted) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, {
          message: error.message,
          ...(error.errors && { errors: error.errors }),
        });
        return;
      }
      // A bug in a simulator: answer like a broken third party would rather than crash every simulator.
      if (!res.headersSent) sendJson(res, 500, { message: `${name} simulator failed: ${String(error)}` });
      else res.destroy();
    });
  });

  const { host = '127.0.0.1', port = 0 } = options;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      reject(
        new Error(`${name} simulator cannot listen on ${host}:${port}: ${error.message}`, { cause: error }),
      );
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const reachable = LOOPBACK[address.address] ?? address.address;
  const urlHost = address.family === 'IPv6' ? `[${reachable}]` : reachable;

  return {
    url: `http://${urlHost}:${address.port}`,
    close: async () => {
      // Resolve only once every dropped request has been reported, so its log line is not lost on exit.
      const dropped = [...pending].map(([res, cancel]) => {
        const reported = once(res, 'close');
        cancel.abort();
        return reported;
      });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Pending responses (family-box's 60 s) hold their sockets open; close() alone would wait for them.
      server.closeAllConnections();
      await Promise.all([closed, ...dropped]);
    },
  };
}

/** A server on every interface is reached from this machine through loopback; print that in its URL. */
const LOOPBACK: Partial<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

async function dispatch(routes: Route[], req: IncomingMessage, res: ServerResponse, signal: AbortSignal) {
  const { pathname } = new URL(req.url ?? '/', 'http://simulator');
  let pathMatched = false;
  for (const route of routes) {
    const param = matchPath(route.path, pathname);
    if (param === undefined) continue;
    pathMatched = true;
    if (route.method === req.method) return route.handle({ req, res, param, signal });
  }
  if (pathMatched) throw new HttpError(405, `${req.method ?? ''} is not allowed on ${pathname}`);
  throw new HttpError(404, `No route for ${req.method ?? ''} ${pathname}`);
}

/** The decoded `:param` segment ('' when the pattern has none), or undefined when the path does not match. */
function matchPath(pattern: string, pathname: string): string | undefined {
  const lastSlash = pattern.lastIndexOf('/');
  if (pattern[lastSlash + 1] !== ':') return pathname === pattern ? '' : undefined;
  const prefix = pattern.slice(0, lastSlash + 1);
  const segment = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : '';
  if (segment === '' || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `Malformed path segment: ${segment}`);
  }
}

async function health({ res }: Exchange): Promise<void> {
  sendJson(res, 200, { status: 'ok' });
}

/** Answers `status` with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers `status` with no body, as the seed's failing stubs do. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/** Waits `ms`, or rejects at once when `signal` aborts; the timer is cleared either way. */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
}

const MAX_BODY_BYTES = 64 * 1024;

/** Reads a JSON body and checks it against `schema`: 413 when too large, 400 when not JSON, 422 when invalid. */
export async function readBody<T extends TSchema>(req: IncomingMessage, schema: T): Promise<Static<T>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'Body is not valid JSON');
  }
  if (Value.Check(schema, body)) return body;
  throw new HttpError(422, 'Invalid request body', validationProblems(schema, body));
}
