import type { Request, RequestHandler, Router } from 'express';
import type { z } from 'zod';
import type { Role } from '../domain/roles.ts';
import type { Logger } from '../runtime/logger.ts';
import { requireRole } from './middleware/auth.ts';
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
  log: Logger;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
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
  body?: BS;
  query?: QS;
  params?: PS;
  handler(input: RouteInput<Infer<BS>, Infer<QS>, Infer<PS>>): Promise<RouteResult> | RouteResult;
}

export function defineRoute<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, PS extends z.ZodType | undefined = undefined>(
  route: Route<BS, QS, PS>,
): Route<any, any, any> {
  return route;
}

export function mountRoutes(router: Router, routes: ReadonlyArray<Route<any, any, any>>, authenticate: RequestHandler): void {
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    if (route.roles) chain.push(authenticate, requireRole(...route.roles));
    chain.push(validate({ body: route.body, query: route.query, params: route.params }));
    chain.push(async (req, res) => {
      const result = await route.handler({
        body: req.body,
        query: req.query,
        params: req.params,
        user: req.user!,
        headers: req.headers,
        log: req.log,
      });
      for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
      res.status(result.status ?? 200);
      if (result.html !== undefined) res.type('html').send(result.html);
      else if (result.body === undefined) res.end();
      else res.json(result.body);
    });
    router[route.method](route.path, ...chain);
  }
}
