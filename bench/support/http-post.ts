import http from 'node:http';

/**
 * A lean HTTP POST for load generators that run in the bench's own process: node's http client on
 * keep-alive sockets. `fetch` (undici) costs several times more CPU per request (web streams,
 * headers objects, a promise per body chunk), and at a few hundred requests a second that CPU was
 * charged to the work the bench measures, on the same two cores.
 */
export function createPoster(baseUrl: string, options: { sockets?: number } = {}) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets ?? 64, noDelay: true });
  return (path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
}
