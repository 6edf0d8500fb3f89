import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  at: number;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

/**
 * A local stand-in for an SMS/KakaoTalk HTTP gateway. `respond` decides each answer from the
 * request and how many requests carried the same Idempotency-Key before it; 'hang' never answers.
 */
export async function startProviderStandIn(respond: (req: StandInRequest, seenBefore: number) => number | 'hang') {
  const requests: StandInRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const entry: StandInRequest = { at: Date.now(), idempotencyKey: String(req.headers['idempotency-key'] ?? ''), body: JSON.parse(raw || '{}') };
      const seenBefore = requests.filter((r) => r.idempotencyKey === entry.idempotencyKey).length;
      requests.push(entry);
      const status = respond(entry, seenBefore);
      if (status === 'hang') return void hanging.add(res);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { id: `msg-${requests.length}` } : { error: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`,
    requests,
    /** Distinct deliveries the gateway accepted (2xx), counted once per idempotency key. */
    accepted: new Set<string>(),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
