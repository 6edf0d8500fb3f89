/**
 * Recognises "Redis or Postgres is away" among errors from ioredis, pg and knex, so the API
 * answers 503 (retry later) instead of 500 (our bug).
 */
export function isDependencyDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && NETWORK_CODES.has(code)) return true;
  // A server reached through a Unix socket (the embedded ones) that has stopped: its socket file is gone.
  if (code === 'ENOENT' && (err as { syscall?: string }).syscall === 'connect') return true;
  // Postgres: connection exceptions (08xxx), shutting down (57P0x), too many connections.
  if (code && (/^08/.test(code) || /^57P0/.test(code) || code === '53300')) return true;
  if (err.name === 'KnexTimeoutError' || err.name === 'MaxRetriesPerRequestError') return true;
  return MESSAGES.some((m) => err.message.includes(m));
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const MESSAGES = [
  "Stream isn't writeable", // ioredis with enableOfflineQueue: false while disconnected
  'Connection is closed',
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
];
