import type { Knex } from 'knex';

/** One row per finding; (rider, rule, recorded_at) is its identity, so re-evaluation adds nothing. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('fraud_alerts', (t) => {
    t.bigIncrements('id').primary();
    t.text('rider_id').notNullable();
    t.text('rule').notNullable();
    t.text('severity').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.jsonb('evidence').notNullable();
    t.text('detail').notNullable();
    t.boolean('alert').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['rider_id', 'rule', 'recorded_at']);
    t.index(['created_at']);
    t.index(['rider_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('fraud_alerts');
}
