/**
 * Redis's own count of the commands it ran (INFO commandstats), read before and after a phase:
 * calls and microseconds per command, Lua scripts' inner commands included (a script's EVALSHA
 * line holds its whole time, and its inner calls are counted again under their own names).
 */
export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function redisCommandStats(redis: { info(section: string): Promise<string> }): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/** The phase's commands, most time first: calls and µs, each also per `per` (a match, a request). */
export function commandStatsBetween(before: CommandStats, after: CommandStats, per: number): Array<{ command: string; calls: number; usec: number; callsPer: number; usecPer: number }> {
  return [...after]
    .map(([command, a]) => {
      const b = before.get(command) ?? { calls: 0, usec: 0 };
      const calls = a.calls - b.calls;
      const usec = a.usec - b.usec;
      return { command, calls, usec, callsPer: calls / Math.max(1, per), usecPer: usec / Math.max(1, per) };
    })
    .filter((c) => c.calls > 0)
    .sort((x, y) => y.usec - x.usec);
}

/** Redis's totals (INFO stats): commands run, and read events, i.e. the round trips clients sent, pipelines counting once. */
export async function redisTotals(redis: { info(section: string): Promise<string> }): Promise<{ commands: number; reads: number; inputBytes: number; forks: number; aofBytes: number }> {
  const info = (await redis.info('stats')) + (await redis.info('persistence'));
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return {
    commands: field('total_commands_processed'),
    reads: field('total_reads_processed'),
    inputBytes: field('total_net_input_bytes'),
    // Each fork is an AOF rewrite: a child that writes the whole dataset out, on the same cores.
    forks: field('total_forks'),
    aofBytes: field('aof_current_size'),
  };
}

/**
 * Logs every command of 20 µs or more in Redis's slow log from now on; the returned function reads
 * the log back (and turns the logging down again) and sums it by Lua script, each named from the
 * scripts `redis` has defined (`defineCommand`), others by their SHA's start. A script's own run
 * time, which INFO commandstats cannot split (every script is one `evalsha` line there).
 */
export async function startScriptLog(redis: import('ioredis').Redis): Promise<() => Promise<Array<{ name: string; calls: number; usec: number }>>> {
  await redis.config('SET', 'slowlog-log-slower-than', '20');
  await redis.config('SET', 'slowlog-max-len', '500000');
  await redis.slowlog('RESET');
  return async () => {
    const entries = (await redis.slowlog('GET', -1)) as Array<[number, number, number, string[]]>;
    await redis.config('SET', 'slowlog-log-slower-than', '10000');
    const names = new Map(Object.entries((redis as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet).map(([name, script]) => [script.sha, name]));
    const by = new Map<string, { calls: number; usec: number }>();
    for (const [, , usec, args] of entries) {
      // A script this connection did not define is named by its SHA and its first key.
      const name = args[0]?.toLowerCase() === 'evalsha' ? (names.get(args[1] ?? '') ?? `script ${args[1]?.slice(0, 8)} (${args[3]?.slice(0, 40)})`) : `(${args[0]?.toLowerCase()})`;
      const t = by.get(name) ?? by.set(name, { calls: 0, usec: 0 }).get(name)!;
      t.calls++;
      t.usec += usec;
    }
    return [...by].map(([name, t]) => ({ name, ...t })).sort((a, b) => b.usec - a.usec).slice(0, 20);
  };
}
