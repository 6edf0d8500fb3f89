import { createHash, randomUUID } from 'node:crypto';
import { parse } from 'node:querystring';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Role } from '../domain/roles.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Identity } from '../runtime/tokens.ts';
import type { Route } from './route.ts';

/**
 * The hot routes' common requests (a rider's every fix, an order placed, the nearby group list, a
 * restaurant's acceptance and the other status changes, a rider's answer to an offer),
 * served ahead of Express. At thousands of requests/s the API's own cost per request is mostly
 * Express's (its router, body-parser, the middleware chain) and Node's HTTP machinery; this lane
 * takes the common request of a hot JSON route straight from the server: a known token, and a
 * well-formed body that the route's `quickBody` accepts (a POST) or a query string its
 * `quickQuery` accepts (a GET). It then does exactly what the route would (same handler, same
 * answer, X-Request-Id, the ETag of a GET, the latency metric) and no more.
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

type FastRoute = Route<any, any, any> & { roles: readonly Role[] };

/**
 * A hot POST with path parameters (`/v1/offers/:id/accept`): its path's segments, the names of
 * its parameters by position. The lane takes a request whose parameters the route's own schema
 * accepts; a parameter that needs decoding (`%`) or fails the schema stays with Express.
 */
interface ParamRoute {
  route: FastRoute;
  segments: string[];
}

function matchParams(pattern: ParamRoute, path: string): Record<string, string> | undefined {
  const parts = path.split('/');
  if (parts.length !== pattern.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const want = pattern.segments[i]!;
    const part = parts[i]!;
    if (want.startsWith(':')) {
      if (part === '' || part.includes('%')) return undefined;
      params[want.slice(1)] = part;
    } else if (want !== part) return undefined;
  }
  const parsed = pattern.route.params!.safeParse(params);
  return parsed.success ? (parsed.data as Record<string, string>) : undefined;
}

export function createFastLane(routes: ReadonlyArray<Route<any, any, any>>, deps: FastLaneDeps): FastLane {
  const posts = new Map<string, FastRoute>();
  const gets = new Map<string, FastRoute>();
  const withParams: ParamRoute[] = [];
  for (const route of routes) {
    // A POST with path parameters: taken when it has a quick body check, or takes no body at all
    // (a rider's accept or reject), and nothing from the query string.
    if (route.hot && route.roles && route.method === 'post' && route.params && route.path.includes(':') && !route.query && (route.quickBody || !route.body)) {
      withParams.push({ route: route as FastRoute, segments: route.path.split('/') });
      continue;
    }
    // Only fixed paths with a hand-written check of what they take; everything else keeps Express.
    if (!route.hot || !route.roles || route.path.includes(':') || route.params) continue;
    if (route.method === 'post' && route.quickBody && !route.query) posts.set(route.path, route as FastRoute);
    if (route.method === 'get' && !route.body && (route.query ? route.quickQuery : true)) gets.set(route.path, route as FastRoute);
  }
  const slowMs = deps.slowMs ?? 1_000;
  /** Runs the route's handler and writes its answer; a failure goes to the app's problem handler. */
  const answer = (route: FastRoute, req: IncomingMessage, res: ServerResponse, app: Handler, input: { body: unknown; query: unknown; user: Identity; params?: Record<string, string> }, started: number) => {
    const method = req.method as 'GET' | 'POST';
    const headers = req.headers;
    const incoming = headers['x-request-id'];
    const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
    let log: Logger | undefined;
    const routeInput = {
      method,
      body: input.body,
      params: input.params ?? {},
      query: input.query,
      user: input.user,
      headers,
      get log() {
        return (log ??= deps.logger.child({ req: { id, method, url: req.url } }));
      },
    };
    Promise.resolve(route.handler(routeInput)).then(
      (result) => {
        const status = result.status ?? 200;
        const json = result.json ?? (result.body === undefined ? '' : JSON.stringify(result.body));
        const out: Record<string, string | number> = { 'X-Request-Id': id, ...result.headers };
        if (json) out['Content-Type'] = 'application/json; charset=utf-8';
        if (method === 'GET') {
          // What Express's res.send gives a GET; a conditional GET never takes the lane (see below).
          const bytes = Buffer.from(json, 'utf8');
          out['Content-Length'] = bytes.length;
          out.ETag = weakEtag(bytes);
          res.writeHead(status, out);
          res.end(bytes);
        } else {
          out['Content-Length'] = Buffer.byteLength(json);
          res.writeHead(status, out);
          res.end(json);
        }
        const seconds = (performance.now() - started) / 1000;
        deps.observe?.(method, route.path, status, seconds);
        if (seconds * 1000 >= slowMs) routeInput.log.info({ res: { statusCode: status }, responseTime: Math.round(seconds * 1000) }, 'slow request');
      },
      // A failing dependency (Redis down) is answered by the problem handler, like any error.
      (err: unknown) => fallback(req, res, app, input.body, err),
    );
  };
  const caller = (route: FastRoute, headers: IncomingMessage['headers']) => {
    const user = deps.identify(headers);
    return user && route.roles.includes(user.role) ? user : undefined;
  };

  return (req, res, app) => {
    if (req.method === 'GET') {
      if (gets.size === 0) return false;
      const url = req.url ?? '';
      const mark = url.indexOf('?');
      const route = gets.get(mark < 0 ? url : url.slice(0, mark));
      // A conditional GET is Express's to answer (ETag freshness, 304).
      if (!route || req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined) return false;
      const user = caller(route, req.headers);
      if (!user) return false;
      let query: unknown = {};
      if (route.query) {
        query = route.quickQuery!(parseQuery(mark < 0 ? '' : url.slice(mark + 1)));
        // Unsure: the route's zod schema judges it and names every wrong field.
        if (query === undefined) return false;
      }
      answer(route, req, res, app, { body: undefined, query, user }, performance.now());
      return true;
    }
    if (req.method !== 'POST' || (posts.size === 0 && withParams.length === 0)) return false;
    let route = posts.get(req.url ?? '');
    let params: Record<string, string> | undefined;
    if (!route) {
      const url = req.url ?? '';
      if (withParams.length === 0 || url.includes('?')) return false;
      for (const pattern of withParams) {
        params = matchParams(pattern, url);
        if (params) {
          route = pattern.route;
          break;
        }
      }
      if (!route) return false;
      if (!route.body && isBodiless(req.headers)) return takeBodiless(route, req, res, app, params!);
    }
    const headers = req.headers;
    const type = headers['content-type'];
    if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return false;
    if (headers['content-encoding'] !== undefined) return false;
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= deps.maxBodyBytes)) return false;
    const user = caller(route, headers);
    if (!user) return false;

    const started = performance.now();
    const chunks: Buffer[] = [];
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
        return fallback(req, res, app, undefined, Object.assign(err as Error, { status: 400, type: 'entity.parse.failed' }));
      }
      // A route that takes no body ignores what it was sent, once it is JSON (as with Express).
      const body = route!.body ? route!.quickBody!(raw) : raw;
      // Unsure: the route's zod schema judges it and names every wrong field.
      if (body === undefined) return fallback(req, res, app, raw);
      answer(route!, req, res, app, { body, query: {}, user, params }, started);
    });
    return true;
  };

  /** A POST that takes no body (accept, reject) and was sent none. */
  function takeBodiless(route: FastRoute, req: IncomingMessage, res: ServerResponse, app: Handler, params: Record<string, string>): boolean {
    const headers = req.headers;
    const user = caller(route, headers);
    if (!user) return false;
    const started = performance.now();
    // The (empty) request is read to its end, as Express would, so the socket serves the next one.
    req.resume();
    answer(route, req, res, app, { body: undefined, query: {}, user, params }, started);
    return true;
  }
}

/** A request that sends no body at all (no length, or 0, and not chunked). */
function isBodiless(headers: IncomingMessage['headers']): boolean {
  return headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0');
}

/** Hands a request to the app: with the body the lane read, and the error it met, if any. */
function fallback(req: IncomingMessage, res: ServerResponse, app: Handler, body: unknown, error?: unknown): void {
  Object.assign(req, { body, [READ_ERROR]: error });
  app(req, res);
}

/** Express's query parser ("simple": node's querystring), so `quickQuery` sees what zod would. */
function parseQuery(search: string): Record<string, string | string[] | undefined> {
  return search ? parse(search) : {};
}

/** The weak ETag Express's res.send puts on a GET answer (the `etag` package's, weak). */
export function weakEtag(body: Buffer): string {
  if (body.length === 0) return 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';
  return `W/"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64').substring(0, 27)}"`;
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
