import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../runtime/config.ts';
import { queueShards, shardIndex } from '../runtime/queue-registry.ts';
import { clusterNodes, clusterTarget, clusterUrl, redisEnv } from '../runtime/redis-cluster.ts';
import { hashTag, keySlot } from '../runtime/redis-slot.ts';

describe('Redis Cluster: slots, shards and settings (pure)', () => {
  it('keySlot matches the cluster specification', () => {
    // CRC16-XMODEM("123456789") = 0x31C3 (the spec's check value); `foo` is 12182 in CLUSTER KEYSLOT.
    assert.equal(keySlot('123456789'), 0x31c3);
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('deligo:{location-0}:wait'), keySlot('location-0'));
  });

  it('hashTag: the first non-empty {…}, else the whole key', () => {
    assert.equal(hashTag('deligo:rider:{r-1}'), 'r-1');
    assert.equal(hashTag('a{b}{c}'), 'b');
    assert.equal(hashTag('a{}b{c}'), 'a{}b{c}', 'an empty tag hashes the whole key');
    assert.equal(hashTag('plain'), 'plain');
    assert.equal(hashTag('open{only'), 'open{only');
  });

  it('shardIndex is stable, in range, and spreads riders over every shard', () => {
    assert.equal(shardIndex('rider-42', 4), shardIndex('rider-42', 4));
    assert.equal(shardIndex('anything', 1), 0);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4_000; i++) counts[shardIndex(`rider-${i}`, 4)]! += 1;
    assert.ok(counts.every((n) => n > 800 && n < 1_200), `riders per shard: ${counts.join(', ')}`);
  });

  it('queueShards names each shard of the location queue and leaves the others whole', () => {
    assert.deepEqual(queueShards({ location: 1 }).find((s) => s.id === 'location'), { id: 'location', name: '{location}', label: 'location', index: 0 }, 'one shard keeps the plain name');
    const shards = queueShards({ location: 3 });
    assert.deepEqual(shards.filter((s) => s.id === 'location').map((s) => s.name), ['{location-0}', '{location-1}', '{location-2}']);
    assert.deepEqual(shards.find((s) => s.id === 'dispatch'), { id: 'dispatch', name: '{dispatch}', label: 'dispatch', index: 0 });
    // Shards of one queue must land in different slots, or sharding would spread nothing.
    assert.equal(new Set(queueShards({ location: 4 }).filter((s) => s.id === 'location').map((s) => keySlot(s.name))).size, 4);
  });

  it('REDIS_CLUSTER_NODES becomes a cluster target; children get the same setting back', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001, 127.0.0.1:7002,redis-3:7003' });
    assert.equal(config.redisUrl, clusterUrl(['127.0.0.1:7001', '127.0.0.1:7002', 'redis-3:7003']));
    assert.deepEqual(clusterNodes(config.redisUrl!), [
      { host: '127.0.0.1', port: 7001 },
      { host: '127.0.0.1', port: 7002 },
      { host: 'redis-3', port: 7003 },
    ]);
    assert.deepEqual(redisEnv(config.redisUrl!), { REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002,redis-3:7003' });
    assert.deepEqual(redisEnv('redis://127.0.0.1:6379'), { REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(clusterNodes('redis://127.0.0.1:6379'), undefined);
  });

  it('cluster credentials and TLS travel in the target, encoded, and come back as the same settings', () => {
    const env = { REDIS_CLUSTER_NODES: 'node-1.example:6379,node-2.example:6380', REDIS_CLUSTER_USERNAME: 'deligo', REDIS_CLUSTER_PASSWORD: 'p@ss:w/rd,?&= 비밀', REDIS_CLUSTER_TLS: 'true' };
    const config = loadConfig(env);
    assert.deepEqual(clusterTarget(config.redisUrl!), {
      nodes: [{ host: 'node-1.example', port: 6379 }, { host: 'node-2.example', port: 6380 }],
      auth: { username: 'deligo', password: 'p@ss:w/rd,?&= 비밀', tls: true },
    });
    assert.deepEqual(redisEnv(config.redisUrl!), env);
    assert.deepEqual(clusterTarget(clusterUrl(['127.0.0.1:7001']))!.auth, {}, 'no credentials, no TLS');
  });

  it('cluster-only Redis settings without REDIS_CLUSTER_NODES, or half of them, are one clear error', () => {
    assert.throws(() => loadConfig({ REDIS_CLUSTER_PASSWORD: 'x' }), /REDIS_CLUSTER_PASSWORD is set but REDIS_CLUSTER_NODES is not: for one Redis put credentials and TLS in REDIS_URL/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_TLS: 'true' }), /REDIS_CLUSTER_TLS is set but REDIS_CLUSTER_NODES is not/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001', REDIS_CLUSTER_USERNAME: 'ops' }), /an ACL user needs its password/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001', REDIS_CLUSTER_TLS_CA_FILE: '/etc/ca.pem' }), /REDIS_CLUSTER_TLS is not true/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001', REDIS_CLUSTER_TLS: 'true', REDIS_CLUSTER_TLS_CA_FILE: '/nonexistent/ca.pem' }), /REDIS_CLUSTER_TLS_CA_FILE="\/nonexistent\/ca.pem": no such file/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001', REDIS_CLUSTER_TLS: 'yes' }), /invalid REDIS_CLUSTER_TLS="yes": expected true or false/);
  });

  it('a bad REDIS_CLUSTER_NODES, both Redis settings, or a bad shard count is one clear error', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /^invalid REDIS_CLUSTER_NODES="127.0.0.1": expected host:port pairs separated by commas/],
      [{ REDIS_CLUSTER_NODES: '127.0.0.1:7001,,' }, /^invalid REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7001' }, /^invalid REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: '127.0.0.1:70000' }, /^invalid REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: '127.0.0.1:7001', REDIS_URL: 'redis://127.0.0.1:6379' }, /both REDIS_URL and REDIS_CLUSTER_NODES are set/],
      [{ LOCATION_QUEUE_SHARDS: '0' }, /^invalid LOCATION_QUEUE_SHARDS="0": expected a whole number from 1 to 64/],
      [{ LOCATION_QUEUE_SHARDS: 'four' }, /^invalid LOCATION_QUEUE_SHARDS/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    // One Redis: one shard by default (no slots to spread over); a cluster: four.
    assert.deepEqual(loadConfig({}).queueShards, { location: 1 });
    assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7001' }).queueShards, { location: 4 });
    assert.deepEqual(loadConfig({ LOCATION_QUEUE_SHARDS: '8' }).queueShards, { location: 8 });
  });
});
