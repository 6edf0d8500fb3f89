import { createApp } from '../../api/app.ts';
import { listen } from '../../api/server.ts';
import type { Role } from '../../domain/roles.ts';
import { signToken } from '../../runtime/tokens.ts';
import type { TestPlatform } from './services.ts';

export interface TestApi {
  url: string;
  token(role: Role, sub?: string): Promise<string>;
  get(path: string, init?: { token?: string; headers?: Record<string, string> }): Promise<Response>;
  post(path: string, body: unknown, init?: { token?: string; headers?: Record<string, string> }): Promise<Response>;
}

/** The real app on a real port, closed by the platform's cleanup. */
export async function startTestApi(platform: TestPlatform): Promise<TestApi> {
  const app = createApp(platform);
  const { url } = await listen(app, { port: 0, host: '127.0.0.1', logger: platform.logger, releasers: platform.releasers });
  const headers = (init?: { token?: string; headers?: Record<string, string> }) => ({
    ...(init?.token ? { authorization: `Bearer ${init.token}` } : {}),
    ...init?.headers,
  });
  return {
    url,
    token: (role, sub = `${role}-1`) => signToken({ sub, role }, platform.config.jwt),
    get: (path, init) => fetch(url + path, { headers: headers(init), redirect: 'manual' }),
    post: (path, body, init) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers(init) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        redirect: 'manual',
      }),
  };
}
