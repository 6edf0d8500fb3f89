import type { Role } from '../../domain/roles.ts';
import { signToken } from '../../runtime/tokens.ts';
import { recordLatency, type SimStats } from './stats.ts';

/** A response the simulation reads: the status, and the JSON body when there is one. */
export interface Reply<T = any> {
  status: number;
  body: T;
}

/**
 * The simulation's only door into deligo: the real HTTP API, with real tokens. Every call is
 * counted and timed; a network failure is a reply with status 0, so one lost request never stops
 * a rider's loop.
 */
export interface SimApi {
  as(role: Role, sub: string): Promise<SimSession>;
}

export interface SimSession {
  get<T = any>(path: string): Promise<Reply<T>>;
  post<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  put<T = any>(path: string, body: unknown): Promise<Reply<T>>;
}

export function createSimApi(options: { baseUrl: string; secret: string; ttl: string; stats: SimStats; random: () => number; timeoutMs?: number }): SimApi {
  const timeoutMs = options.timeoutMs ?? 10_000;
  async function call(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const started = performance.now();
    try {
      const res = await fetch(options.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      recordLatency(options.stats, performance.now() - started, options.random);
      if (res.status >= 400) options.stats.errors[res.status] = (options.stats.errors[res.status] ?? 0) + 1;
      return { status: res.status, body: text ? safeJson(text) : undefined };
    } catch {
      options.stats.requests += 1;
      options.stats.errors.network = (options.stats.errors.network ?? 0) + 1;
      return { status: 0, body: undefined };
    }
  }
  return {
    async as(role, sub) {
      const token = await signToken({ role, sub }, { secret: options.secret, ttl: options.ttl });
      return {
        get: (path) => call(token, 'GET', path),
        post: (path, body, headers) => call(token, 'POST', path, body, headers),
        put: (path, body) => call(token, 'PUT', path, body),
      };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
