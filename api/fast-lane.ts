import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Role } from '../domain/roles.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Identity } from '../runtime/tokens.ts';
import type { Route } from './route.ts';

/**
 * The rider's every fix, served ahead of Express. At 10,000 points/s the API's own cost per
 * request is mostly Express's (its router, body-parser, the middleware chain) and Node's HTTP
 * machinery; this lane takes the common request of a hot JSON route straight from the server:
 * a known token, a well-formed body that the route's `quickBody` accepts. It then does exactly
 * what the route would (same handler, same answer, X-Request-Id, the latency metric) and no more.
 *
 * Anything else goes to the Express app as usual, so every error is still answered there, as
 * problem+json naming the wrong field. Once the lane has read a body it hands it over as
 * `req.body` (body-parser skips a request already read), or, when it is not JSON, the error the
 * JSON parser would have raised (`rethrow` below passes it on).
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse, app: Handler) => boolean;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FastLaneDeps {
  /** The caller of a request, when it can be settled without waiting (a token seen before). */
  identify(headers: IncomingMessage['headers']): Identity | undefined;
  /** Largest body taken, in bytes; bigger ones go to Express, which enforces the real limit. */
  maxBodyBytes: number;
  observe?(method: string, route: string, status: number, seconds: number): void;
  logger: Logger;
  /** Slower requests are logged at info, as request logging does. Default 1,000 ms. */
  slowMs?: number;
}

const READ_ERROR = Symbol('deligo.fastLaneError');
const SANE_ID = /^[\w\-.:]{1,128}$/;

type FastRoute = Route<any, any, any> & { quickBody: (raw: unknown) => unknown; roles: readonly Role[] };

export function createFastLane(routes: ReadonlyArray<Route<any, any, any>>, deps: FastLaneDeps): FastLane {
  const byPath = new Map<string, FastRoute>();
  for (const route of routes) {
    // Only POSTs on fixed paths with a hand-written body check; everything else keeps Express.
    if (route.hot && route.method === 'post' && route.quickBody && route.roles && !route.path.includes(':') && !route.query && !route.params) {
      byPath.set(route.path, route as FastRoute);
    }
  }
  const slowMs = deps.slowMs ?? 1_000;
  return (req, res, app) => {
    if (req.method !== 'POST' || byPath.size === 0) return false;
    const route = byPath.get(req.url ?? '');
    if (!route) return false;
    const headers = req.headers;
    const type = headers['content-type'];
    if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return false;
    if (headers['content-encoding'] !== undefined) return false;
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= deps.maxBodyBytes)) return false;
    const user = deps.identify(headers);
    if (!user || !route.roles.includes(user.role)) return false;

    const started = performance.now();
    const chunks: Buffer[] = [];
    const fallback = (body: unknown, error?: unknown) => {
      Object.assign(req, { body, [READ_ERROR]: error });
      app(req, res);
    };
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client gone mid-body: nothing to answer, and nothing may throw.
    req.on('error', () => {});
    req.on('end', () => {
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        // What body-parser raises for a body that is not JSON (answered as such by the problem handler).
        return fallback(undefined, Object.assign(err as Error, { status: 400, type: 'entity.parse.failed' }));
      }
      const body = route.quickBody(raw);
      // Unsure: the route's zod schema judges it and names every wrong field.
      if (body === undefined) return fallback(raw);
      const incoming = headers['x-request-id'];
      const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
      let log: Logger | undefined;
      const input = {
        method: 'POST',
        body,
        params: {},
        query: {},
        user,
        headers,
        get log() {
          return (log ??= deps.logger.child({ req: { id, method: 'POST', url: route.path } }));
        },
      };
      Promise.resolve(route.handler(input)).then(
        (result) => {
          const status = result.status ?? 200;
          const json = result.json ?? (result.body === undefined ? '' : JSON.stringify(result.body));
          const out: Record<string, string | number> = { 'X-Request-Id': id, ...result.headers, 'Content-Length': Buffer.byteLength(json) };
          if (json) out['Content-Type'] = 'application/json; charset=utf-8';
          res.writeHead(status, out);
          res.end(json);
          const seconds = (performance.now() - started) / 1000;
          deps.observe?.('POST', route.path, status, seconds);
          if (seconds * 1000 >= slowMs) input.log.info({ res: { statusCode: status }, responseTime: Math.round(seconds * 1000) }, 'slow request');
        },
        // A failing dependency (Redis down) is answered by the problem handler, like any error.
        (err: unknown) => fallback(body, err),
      );
    });
    return true;
  };
}

const lanes = new WeakMap<Express, FastLane>();

/** Registers the lane that `listen` puts in front of `app`. */
export function attachFastLane(app: Express, fast: FastLane): void {
  lanes.set(app, fast);
}

/** The server's request handler: the fast lane first, else the app. */
export function withFastLane(app: Express): Handler {
  const fast = lanes.get(app);
  if (!fast) return app;
  return (req, res) => {
    if (!fast(req, res, app)) app(req, res);
  };
}

/** First on the hot router: an error the fast lane met while reading a body goes to the problem handler. */
export function rethrow(req: IncomingMessage, _res: unknown, next: (err?: unknown) => void): void {
  const error = (req as IncomingMessage & { [READ_ERROR]?: unknown })[READ_ERROR];
  next(error);
}

/** `512kb`, `1mb`, `300b` (BODY_LIMIT's format) in bytes. */
export function byteSize(text: string): number {
  const match = /^(\d+)(b|kb|mb)$/.exec(text);
  if (!match) throw new Error(`not a size: ${text}`);
  return Number(match[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[match[2] as 'b' | 'kb' | 'mb'];
}
