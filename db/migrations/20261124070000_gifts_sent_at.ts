import type { Knex } from 'knex';

/**
 * Gifts sent recently, by when they were sent. A send writes its gift SENT first and the rest of its
 * record (the recipient's delivery row, the history steps, the sender's notice) right after, off the
 * critical path; should every attempt at that record fail, or the job that would write it be lost with
 * Redis, the reconciler finds the gift here and hands it back to a send job, which writes the record
 * without sending again (gifts/reconcile.ts). Partial: only the statuses a sent gift holds while its
 * record can still be missing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX gifts_sent_at ON gifts (sent_at) WHERE status IN ('SENT','OPENED')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS gifts_sent_at');
}
