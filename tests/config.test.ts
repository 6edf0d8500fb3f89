import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../runtime/config.ts';

describe('config', () => {
  it('has working defaults for a fresh clone', () => {
    const config = loadConfig({}, '/srv/deligo');
    assert.equal(config.http.port, 3000);
    assert.equal(config.redisUrl, undefined, 'no REDIS_URL means embedded Redis');
    assert.equal(config.databaseUrl, undefined, 'no DATABASE_URL means embedded Postgres');
    assert.equal(config.dataDir, '/srv/deligo/.data');
    assert.equal(config.workerPools, 'all');
  });

  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^invalid PORT="abc": expected an integer port from 0 to 65535$/],
    [{ PORT: '70000' }, /^invalid PORT="70000": expected an integer port/],
    [{ NODE_ENV: 'prod' }, /^invalid NODE_ENV="prod": expected development, test or production$/],
    [{ REDIS_URL: 'http://cache:6379' }, /^invalid REDIS_URL="http:\/\/cache:6379": expected a URL such as redis:\/\//],
    [{ DATABASE_URL: 'mysql://db' }, /^invalid DATABASE_URL="mysql:\/\/db": expected a URL such as postgres:\/\//],
    [{ JWT_SECRET: 'short' }, /^invalid JWT_SECRET=\(hidden\): expected a secret of at least 32 characters$/],
    [{ NOTIFY_RATE_SMS: '0' }, /^invalid NOTIFY_RATE_SMS="0": expected a whole number of sends per second, at least 1$/],
    [{ NOTIFY_PUSH_PROVIDER: 'fcm' }, /^missing FCM_SERVICE_ACCOUNT_JSON: NOTIFY_PUSH_PROVIDER=fcm needs it/],
    [{ NOTIFY_SMS_PROVIDER: 'carrier-pigeon' }, /^invalid NOTIFY_SMS_PROVIDER="carrier-pigeon": expected auto, dev or http$/],
    [{ NODE_ENV: 'production' }, /^missing JWT_SECRET: production needs/],
    [{ WORKER_POOLS: 'location dispatch' }, /^invalid WORKER_POOLS=.*pool names separated by commas/],
    [{ SHUTDOWN_TIMEOUT_MS: '5' }, /^invalid SHUTDOWN_TIMEOUT_MS="5": expected a whole number of milliseconds/],
  ];
  for (const [env, message] of cases) {
    it(`rejects ${JSON.stringify(env)} with one line naming the variable`, () => {
      assert.throws(() => loadConfig(env), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      });
    });
  }

  it('treats empty variables as unset, as compose files do', () => {
    assert.equal(loadConfig({ REDIS_URL: '', PORT: '' }).http.port, 3000);
  });

  it('reads a pool list', () => {
    assert.deepEqual(loadConfig({ WORKER_POOLS: 'location,dispatch' }).workerPools, ['location', 'dispatch']);
  });
});
