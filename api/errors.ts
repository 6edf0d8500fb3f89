/** One field that failed validation: `path` is dotted (`points.3.lat`), `message` says why. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * An error that knows its HTTP answer. Handlers throw these; the problem middleware
 * turns them into application/problem+json.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly extra: { errors?: FieldError[]; [key: string]: unknown } = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new HttpError(400, 'Bad Request', detail, { errors });
export const unauthorized = (detail: string) => new HttpError(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpError(403, 'Forbidden', detail);
export const notFound = (detail: string) => new HttpError(404, 'Not Found', detail);
export const conflict = (detail: string, extra: Record<string, unknown> = {}) => new HttpError(409, 'Conflict', detail, extra);
export const unavailable = (detail: string) => new HttpError(503, 'Service Unavailable', detail);
