import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { Role } from '../domain/roles.ts';
import type { Logger } from '../runtime/logger.ts';
import { roleRefusal } from './middleware/auth.ts';
import { validate } from './middleware/validate.ts';
import type { Identity } from '../runtime/tokens.ts';

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** The caller, present on every route with `roles`. */
  user: Identity;
  headers: Request['headers'];
  /** GET, HEAD (answered by the GET route), POST, … */
  method: string;
  log: Logger;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  /** A body already serialized as JSON, sent as it is (instead of `body`). */
  json?: string;
  headers?: Record<string, string>;
  /** A page instead of JSON (the gift recipient's link); wins over `body`. */
  html?: string;
}

/**
 * A route as plain data: method, path, who may call it, what it accepts and a handler that
 * returns `{status, body}`. Only `mountRoutes` touches Express's req and res.
 */
export interface Route<BS = undefined, QS = undefined, PS = undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  /** Roles allowed; omit for a public route. */
  roles?: readonly Role[];
  /**
   * Carries most of the traffic (a rider's every fix, tracking polls): matched ahead of every
   * other route and the admin pages, so a request does not walk the whole route list. Default false.
   */
  hot?: boolean;
  body?: BS;
  /** A hand-written fast path for `body` on a hot route (see `RequestSchemas.quickBody`). */
  quickBody?: (raw: unknown) => Infer<BS> | undefined;
  query?: QS;
  /**
   * A hand-written fast path for `query` on a hot GET (the query string as Express parses it): it
   * returns what `query` would, or undefined when unsure, and `query` then judges it. It must never
   * accept what `query` rejects. A hot GET with a `query` and no `quickQuery` stays with Express.
   */
  quickQuery?: (raw: Record<string, string | string[] | undefined>) => Infer<QS> | undefined;
  params?: PS;
  handler(input: RouteInput<Infer<BS>, Infer<QS>, Infer<PS>>): Promise<RouteResult> | RouteResult;
}

export function defineRoute<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, PS extends z.ZodType | undefined = undefined>(
  route: Route<BS, QS, PS>,
): Route<any, any, any> {
  return route;
}

/**
 * Mounts routes on `router`. With `bodyLimit`, routes that take a body parse JSON themselves
 * (first, as the app-wide parser would): for a router mounted ahead of that parser.
 */
export function mountRoutes(router: Router, routes: ReadonlyArray<Route<any, any, any>>, authenticate: RequestHandler, options: { bodyLimit?: string } = {}): void {
  const parseJson = options.bodyLimit ? express.json({ limit: options.bodyLimit }) : undefined;
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (parseJson && route.method !== 'get') chain.push(parseJson);
    const roles = route.roles;
    const check = validate({ body: route.body, quickBody: route.quickBody, query: route.query, params: route.params });
    const respond = async (req: Request, res: Response) => {
      const result = await route.handler({
        body: req.body,
        params: req.params,
        user: req.user!,
        headers: req.headers,
        method: req.method,
        // Lazy: Express 5 parses the query string on every read of req.query, and the request's
        // child logger is built on first use; most handlers need neither.
        get query() {
          return req.query;
        },
        get log() {
          return req.log;
        },
      });
      if (result.headers) for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
      res.status(result.status ?? 200);
      if (result.html !== undefined) res.type('html').send(result.html);
      else if (result.json !== undefined) {
        // res.send keeps what res.json does for a GET (the ETag and 304s), minus serializing.
        if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.send(result.json);
      } else if (result.body === undefined) res.end();
      else if (req.method === 'GET' || req.method === 'HEAD') res.json(result.body);
      else {
        // res.json would also hash the body for an ETag, which means nothing on a POST answer.
        if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(result.body));
      }
    };
    // Authenticate, check the role, validate, handle: one Express handler rather than four, as
    // each handler Express dispatches costs a little on every request. (The callbacks are passed
    // inline: the TypeScript loader gives every named closure a name at run time, per request.)
    const proceed = (req: Request, res: Response, next: NextFunction, err: unknown) => {
      if (err) return next(err);
      const refused = roles && roleRefusal(req.user, roles);
      if (refused) return next(refused);
      check(req, res, (invalid?: unknown) => (invalid ? next(invalid) : respond(req, res).catch(next)));
    };
    chain.push((req, res, next) => {
      if (roles) return authenticate(req, res, (err?: unknown) => proceed(req, res, next, err));
      proceed(req, res, next, undefined);
    });
    router[route.method](route.path, ...chain);
  }
}
