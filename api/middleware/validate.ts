import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { badRequest, type FieldError } from '../errors.ts';

export interface RequestSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /**
   * A hand-written check for the common, valid body of a hot route: it returns what `body` would,
   * or undefined when unsure, and `body` then runs and names every wrong field. It must never
   * accept what `body` rejects.
   */
  quickBody?: (raw: unknown) => unknown;
}

/**
 * Parses body, query and params at the edge and replaces them with the typed result, so
 * handlers never see raw input. Every failing field is listed, not just the first.
 */
export function validate(schemas: RequestSchemas): RequestHandler {
  return (req, _res, next) => {
    const errors: FieldError[] = [];
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const quick = part === 'body' && schemas.quickBody ? schemas.quickBody(req.body ?? {}) : undefined;
      if (quick !== undefined) {
        req.body = quick;
        continue;
      }
      const result = schema.safeParse(part === 'body' ? (req.body ?? {}) : req[part]);
      if (result.success) {
        // Express 5 defines req.query as a getter; redefine it to hold the parsed value.
        Object.defineProperty(req, part, { value: result.data, writable: true, configurable: true, enumerable: true });
      } else {
        for (const issue of result.error.issues) errors.push({ path: fieldPath(part, issue.path), message: issue.message });
      }
    }
    if (errors.length === 0) return next();
    const first = errors[0]!;
    next(badRequest(`${first.path}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, errors));
  };
}

/** `points.3.lat` for the body; `query.radius` and `params.id` elsewhere, so a client knows where to look. */
function fieldPath(part: 'body' | 'query' | 'params', path: PropertyKey[]): string {
  const dotted = path.map(String).join('.');
  if (part === 'body') return dotted || '(body)';
  return dotted ? `${part}.${dotted}` : part;
}
