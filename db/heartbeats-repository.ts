import type { Knex } from 'knex';

export async function recordHeartbeat(db: Knex, id: string, worker: string, at: Date): Promise<void> {
  await db('heartbeats').insert({ id, worker, beat_at: at }).onConflict('id').merge();
}

export async function lastHeartbeat(db: Knex, id: string): Promise<Date | undefined> {
  const row = await db('heartbeats').where({ id }).first('beat_at');
  return row?.beat_at;
}
