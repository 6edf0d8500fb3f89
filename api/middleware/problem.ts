import type { ErrorRequestHandler, RequestHandler } from 'express';
import { InsufficientCreditsError } from '../../credits/ledger.ts';
import { HttpError, notFound } from '../errors.ts';
import { isDependencyDown } from './dependency-errors.ts';

/** The one place errors become responses: application/problem+json, never a stack trace. */
export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const problem = toProblem(err);
  if (problem.status >= 500) req.log?.error({ err }, problem.detail);
  else req.log?.debug({ status: problem.status, detail: problem.detail }, 'request refused');
  if (res.headersSent) return;
  if (problem.status === 503) res.setHeader('Retry-After', '2');
  res.status(problem.status).type('application/problem+json').json({ ...problem, instance: req.originalUrl });
};

/** Unknown routes get a problem too, not Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(notFound(`no route for ${req.method} ${req.path}`));
};

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [key: string]: unknown;
}

function toProblem(err: unknown): Problem {
  if (err instanceof HttpError) {
    const extra = Object.fromEntries(Object.entries(err.extra).filter(([, v]) => v !== undefined));
    return { type: 'about:blank', title: err.title, status: err.status, detail: err.message, ...extra };
  }
  if (err instanceof InsufficientCreditsError) {
    return { type: 'about:blank', title: 'Conflict', status: 409, detail: err.message, available: err.available, required: err.required, errors: [{ path: err.path, message: err.message }] };
  }
  // body-parser errors carry their own status and a `type`.
  const parserError = err as { status?: number; type?: string; limit?: number };
  if (parserError.type === 'entity.parse.failed') {
    return { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'request body is not valid JSON' };
  }
  if (parserError.type === 'entity.too.large') {
    return { type: 'about:blank', title: 'Content Too Large', status: 413, detail: `request body is larger than the ${parserError.limit} byte limit` };
  }
  if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
    return { type: 'about:blank', title: 'Unsupported Media Type', status: 415, detail: 'request body must be UTF-8 JSON' };
  }
  if (isDependencyDown(err)) {
    return { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'a backing service (Redis or Postgres) is unavailable; retry shortly' };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'unexpected error; it has been logged' };
}
