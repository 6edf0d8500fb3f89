import type { Knex } from 'knex';
import { z } from 'zod';
import { listDeliveries, type DeliveryRow } from '../../db/notification-deliveries-repository.ts';
import { NOTIFICATION_EVENTS } from '../../domain/notifications/events.ts';
import { defineRoute } from '../route.ts';

/** Ops: what was sent to whom, what is retrying and what is dead. Newest first, paged by `before`. */
export function adminNotificationRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/admin/notifications',
      roles: ['admin'],
      query: z.object({
        status: z.enum(['queued', 'retrying', 'sent', 'failed'], { error: 'queued, retrying, sent or failed' }).optional(),
        event: z.enum(NOTIFICATION_EVENTS as [string, ...string[]], { error: 'a known notification event' }).optional(),
        recipient: z.string().min(1).max(256).optional(),
        before: z.iso.datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      async handler({ query }) {
        const rows = await listDeliveries(deps.db, { ...query, before: query.before ? new Date(query.before) : undefined });
        const last = rows.at(-1);
        return {
          body: {
            items: rows.map(present),
            next: rows.length === query.limit && last ? { before: last.created_at.toISOString() } : null,
          },
        };
      },
    }),
  ];
}

function present(row: DeliveryRow) {
  return {
    id: row.id,
    event: row.event,
    channel: row.channel,
    recipient: row.recipient_key,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    provider: row.provider,
    providerMessageId: row.provider_message_id,
    detail: row.detail,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  };
}
