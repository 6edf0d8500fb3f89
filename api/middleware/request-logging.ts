import { randomUUID } from 'node:crypto';
import type { Express, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../runtime/logger.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id: the caller's `X-Request-Id` when it sends a sane one, else a new UUID. */
    id?: string;
    /** A child logger carrying `req: {id, method, url}`, created on first use. */
    log: Logger;
  }
}

export interface RequestLoggingOptions {
  /** Called once per finished response (not for aborted ones), e.g. to feed the latency histogram. */
  observe?(req: Request, res: Response, seconds: number): void;
  /** A successful request slower than this is logged at info. Default 1,000 ms. */
  slowMs?: number;
}

const SANE_ID = /^[\w\-.:]{1,128}$/;
const QUIET_URLS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A request id on every request (echoed back as `X-Request-Id`, so a client can quote it in a
 * bug report) and one log line per request that matters: 5xx and errors at error, other 4xx at
 * info, successes at debug, or at info when slower than `slowMs`, and aborted requests at info.
 *
 * This runs on every rider fix, so it does the least it can per request: the child logger is
 * made only when something logs through `req.log`, and one `close` listener serves the log line
 * and the metrics.
 */
export function requestLogging(app: Express, logger: Logger, options: RequestLoggingOptions = {}): RequestHandler {
  const slowMs = options.slowMs ?? 1_000;
  const observe = options.observe;
  // Express gives each app its own request prototype, so this getter belongs to this app alone.
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request & { _log?: Logger }) {
      return (this._log ??= logger.child({ req: { id: this.id, method: this.method, url: this.originalUrl } }));
    },
    set(this: Request & { _log?: Logger }, value: Logger) {
      this._log = value;
    },
  });
  return (req, res, next) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    res.on('close', () => {
      const ms = performance.now() - started;
      const finished = res.writableFinished;
      if (finished) observe?.(req, res, ms / 1000);
      const status = res.statusCode;
      const slow = ms >= slowMs;
      let level: 'error' | 'info' | 'debug' = 'debug';
      if (!finished) level = 'info';
      else if (status >= 500) level = 'error';
      else if (QUIET_URLS.has(req.originalUrl)) level = 'debug';
      else if (status >= 400 || slow) level = 'info';
      // The root logger's level decides, so a quiet request never builds its child logger.
      if (!logger.isLevelEnabled(level)) return;
      const msg = !finished ? 'request aborted' : status >= 500 ? 'request errored' : slow && status < 400 ? 'slow request' : 'request completed';
      req.log[level]({ res: { statusCode: status }, responseTime: Math.round(ms) }, msg);
    });
    next();
  };
}
