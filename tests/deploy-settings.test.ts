import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DURABLE_SETTINGS } from '../runtime/embedded/postgres-server.ts';
import { NODE_FLAGS } from '../runtime/node-flags.ts';
import { DURABLE_REDIS_SETTINGS } from '../runtime/embedded/redis-server.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/** The `command:` list of one service in docker-compose.yml, as its words. */
function composeCommand(service: string): string[] {
  const compose = fs.readFileSync(path.join(import.meta.dirname, '..', 'docker-compose.yml'), 'utf8');
  const block = new RegExp(`^  ${service}:\\n((?:    .*\\n|\\s*\\n)*)`, 'm').exec(compose)?.[1];
  assert.ok(block, `docker-compose.yml has a ${service} service`);
  const command = /^    command: (\[.*\])$/m.exec(block)?.[1];
  assert.ok(command, `the ${service} service has a command`);
  return JSON.parse(command) as string[];
}

describe('deployment settings', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await createTestPlatform();
  });
  after(() => platform.cleanup());

  it('starts the embedded Redis with them', async () => {
    // The suite's Redis is ephemeral: it skips fsync (appendfsync no) and keeps the rest.
    const { appendfsync: _, ...rest } = DURABLE_REDIS_SETTINGS;
    for (const [name, value] of Object.entries(rest)) {
      const [, actual] = (await platform.redis.config('GET', name)) as [string, string];
      // Redis answers sizes in bytes.
      assert.equal(actual, name === 'auto-aof-rewrite-min-size' ? String(2 ** 30) : value, name);
    }
  });

  it('runs the deployed Redis with the settings the embedded one has', () => {
    const words = composeCommand('redis');
    for (const [name, value] of Object.entries(DURABLE_REDIS_SETTINGS)) {
      const at = words.indexOf(`--${name}`);
      assert.ok(at >= 0, `docker-compose.yml's redis sets --${name}`);
      assert.equal(words[at + 1], value, `--${name}`);
    }
  });

  it('runs the deployed Postgres with the settings the embedded one has', () => {
    const words = composeCommand('postgres');
    for (const [name, value] of Object.entries(DURABLE_SETTINGS)) assert.ok(words.includes(`${name}=${value}`), `docker-compose.yml's postgres sets ${name}=${value}`);
  });

  it('runs every deployed and started deligo process with the same V8 flags', () => {
    const root = path.join(import.meta.dirname, '..');
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const options = /^\s*NODE_OPTIONS=(\S+(?: \S+)*?)\s*\\?$/m.exec(dockerfile)?.[1]?.replace(/^"|"$/g, '').split(' ');
    assert.deepEqual(options, [...NODE_FLAGS], "the Dockerfile's NODE_OPTIONS");
    const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'api', 'workers']) {
      const words = scripts[name]!.split(' ');
      assert.equal(words[0], 'node', `npm run ${name} runs node itself`);
      for (const flag of NODE_FLAGS) assert.ok(words.includes(flag), `npm run ${name} passes ${flag}`);
    }
  });
});
