import type { Knex } from 'knex';

/**
 * What a burst's send will write and say, prepared minutes ahead (gifts/stage.ts): per gift the
 * code, link token, delivery id and validity it will get, the recipient's rendered message and the
 * sender's "발송 완료". At the instant one statement moves the gift SENT from here, so nothing of it
 * is drawn, rendered or hashed on the critical path. Inert until then: no route reads this table,
 * a code or token here is usable only once the send has copied it to its gift, and a row built
 * from an older version of its gift (or too long before its send) is not used. Rows go with their
 * gift's record, or with housekeeping once `usable_until` is long past (no index: the table holds
 * only the next few minutes' bursts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE gift_staged_sends (
      gift_id text PRIMARY KEY,
      -- The gift's version it was built from, and the last moment its validity and message hold.
      version integer NOT NULL,
      usable_until timestamptz NOT NULL,
      code text NOT NULL,
      link_token text NOT NULL,
      delivery_id text NOT NULL,
      expires_at timestamptz NOT NULL,
      remind_d3_at timestamptz,
      remind_d1_at timestamptz,
      -- What the instant hands to the provider: {channel, recipient, message}.
      send json NOT NULL,
      -- The rest of the recipient's delivery row: {idempotency_key, recipient_key, data}. The sender's
      -- notice is built with the record, off the critical path (a smaller row: 100,000 of them are
      -- read at the instant, and must share Postgres's buffers with the gifts).
      delivery json NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    ) WITH (fillfactor = 100)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS gift_staged_sends');
}
