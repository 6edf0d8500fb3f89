import net from 'node:net';

export type Post = (path: string, headers: Record<string, string>, body?: string) => Promise<{ status: number; text: string }>;

/**
 * A lean HTTP/1.1 POST for load generators that run in the bench's own process, on the two cores
 * the product uses: keep-alive sockets written and read by hand, one request at a time on each.
 *
 * What the bench simulates (restaurants' tablets, riders' phones) lives elsewhere in production, so
 * whatever CPU its client spends here is taken from the product under test. `fetch` (undici) cost
 * several times node's http client per request (web streams, header objects, a promise per body
 * chunk); node's http client in turn spent about 0.3 ms a request (ClientRequest, IncomingMessage,
 * the agent's bookkeeping, llhttp callbacks), which at five requests per dispatched order was an
 * eighth of the CPU per match the bench reported. This writes one string per request and parses
 * only the status line, the framing headers (content-length or chunked) and the body.
 *
 * The server is the API this bench started: its answers are well-formed, so the parser is strict
 * and small, and anything it does not understand fails the request rather than guessing.
 */
export function createPoster(baseUrl: string, options: { sockets?: number } = {}): Post {
  const url = new URL(baseUrl);
  const host = url.hostname;
  const port = Number(url.port || 80);
  const idle: Connection[] = [];
  const waiting: Array<(c: Connection) => void> = [];
  let open = 0;
  const max = options.sockets ?? 64;

  const fresh = () => {
    open++;
    return connect(host, port, () => open--);
  };
  const acquire = (): Promise<Connection> => {
    // A socket that closed while idle (the server's keep-alive timeout) is dropped here.
    let c = idle.pop();
    while (c?.closed) c = idle.pop();
    if (c) return Promise.resolve(c);
    if (open < max) return Promise.resolve(fresh());
    return new Promise((resolve) => waiting.push(resolve));
  };
  // A request waiting for a socket gets this one, or a new one in its place if it has closed.
  const release = (c: Connection) => {
    const next = waiting.shift();
    if (next) next(c.closed ? fresh() : c);
    else if (!c.closed) idle.push(c);
  };
  return async (path, headers, body = '') => {
    const c = await acquire();
    let head = `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    try {
      return await c.send(`${head}\r\n${body}`);
    } finally {
      release(c);
    }
  };
}

interface Connection {
  readonly closed: boolean;
  send(request: string): Promise<{ status: number; text: string }>;
}

function connect(host: string, port: number, onClose: () => void): Connection {
  const socket = net.connect({ host, port, noDelay: true });
  let closed = false;
  let pending: { resolve(r: { status: number; text: string }): void; reject(e: Error): void } | undefined;
  let buffer: Buffer = Buffer.alloc(0);
  const fail = (err: Error) => {
    const p = pending;
    pending = undefined;
    p?.reject(err);
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    if (!pending) return;
    let parsed: ReturnType<typeof parseResponse>;
    try {
      parsed = parseResponse(buffer);
    } catch (err) {
      socket.destroy();
      return fail(err as Error);
    }
    if (!parsed) return;
    buffer = buffer.subarray(parsed.consumed);
    const p = pending;
    pending = undefined;
    if (parsed.close) socket.end();
    p.resolve({ status: parsed.status, text: parsed.text });
  });
  socket.on('error', (err) => fail(err));
  socket.on('close', () => {
    closed = true;
    onClose();
    fail(new Error('connection closed before the response'));
  });
  return {
    get closed() {
      // Ended: the server asked to close after its answer (`connection: close`).
      return closed || socket.destroyed || socket.writableEnded;
    },
    send(request) {
      if (closed) return Promise.reject(new Error('connection closed'));
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(request);
      });
    },
  };
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One whole response at the start of `buf`, or undefined while more bytes are due. Exported for tests. */
export function parseResponse(buf: Buffer): { status: number; text: string; consumed: number; close: boolean } | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end === -1) return undefined;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1];
  if (!status) throw new Error(`not an HTTP response: ${lines[0]}`);
  let length: number | undefined;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase() === 'chunked';
    else if (name === 'connection') close = value.toLowerCase() === 'close';
  }
  const start = end + HEAD_END.length;
  if (chunked) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      const dataStart = lineEnd + 2;
      if (buf.length < dataStart + size + 2) return undefined;
      if (size === 0) return { status: Number(status), text: Buffer.concat(parts).toString('utf8'), consumed: dataStart + 2, close };
      parts.push(buf.subarray(dataStart, dataStart + size));
      at = dataStart + size + 2;
    }
  }
  // No body by definition (RFC 9112 §6.3); anything else must say how long it is.
  if (length === undefined && (status === '204' || status === '304')) length = 0;
  if (length === undefined) throw new Error('a response without content-length or chunked framing');
  if (buf.length < start + length) return undefined;
  return { status: Number(status), text: buf.toString('utf8', start, start + length), consumed: start + length, close };
}
