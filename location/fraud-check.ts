import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { insertFindings, type FraudAlertRow } from '../db/fraud-alerts-repository.ts';
import { markFlagged } from '../db/location-history-repository.ts';
import { evaluateTrack, flaggedPoints, type FraudFinding } from '../domain/location/fraud-rules.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import { createCandidateFacts } from '../dispatch/candidate-facts.ts';
import { notify } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import type { QueueSet } from '../runtime/queues.ts';
import type { RecentTrack } from './recent-track.ts';

export interface FraudCheckDeps {
  db: Knex;
  redis: Redis;
  queues: QueueSet;
  config: Config;
  track: RecentTrack;
}

/** Where the ops map listens for new alerts. */
export const fraudAlertChannel = (prefix: string) => `${prefix}:fraud-alerts`;

/**
 * Runs the fraud rules on a batch (after its points are in history): stores findings once, marks
 * the offending points so settlement skips them, and tells ops about new alerts at once — by
 * push and on the ops map's channel.
 */
export async function checkFraud(deps: FraudCheckDeps, byRider: Map<string, LocationPoint[]>, receivedAt: number): Promise<{ findings: number; alerts: number }> {
  const previous = await deps.track.addAndRead(byRider);
  const findings: FraudFinding[] = [];
  for (const [riderId, incoming] of byRider) {
    findings.push(...evaluateTrack({ previous: previous.get(riderId) ?? [], incoming, receivedAt }));
  }
  if (findings.length === 0) return { findings: 0, alerts: 0 };
  for (const [riderId, recordedAts] of groupFlagged(findings)) await markFlagged(deps.db, riderId, recordedAts);
  const stored = await insertFindings(deps.db, findings);
  // Dispatch reads suspensions from Redis: a critical finding keeps its rider out from now on.
  await suspendForFraud(deps, stored);
  const fresh = stored.filter((row) => row.alert);
  await Promise.all(fresh.map((row) => announce(deps, row)));
  return { findings: findings.length, alerts: fresh.length };
}

/** Mirrors stored critical findings into dispatch's suspensions (dispatch/candidate-facts.ts). */
export async function suspendForFraud(deps: Pick<FraudCheckDeps, 'db' | 'redis' | 'config'>, stored: readonly FraudAlertRow[]): Promise<void> {
  const critical = stored.filter((row) => row.severity === 'critical').map((row) => ({ riderId: row.rider_id, at: row.created_at.getTime() }));
  await createCandidateFacts(deps.db, deps.redis, deps.config.queuePrefix).suspend(critical);
}

function groupFlagged(findings: FraudFinding[]): Map<string, number[]> {
  const byRider = new Map<string, number[]>();
  for (const riderId of new Set(findings.map((f) => f.riderId))) {
    const flagged = [...flaggedPoints(findings.filter((f) => f.riderId === riderId))];
    if (flagged.length > 0) byRider.set(riderId, flagged);
  }
  return byRider;
}

async function announce(deps: FraudCheckDeps, row: FraudAlertRow): Promise<void> {
  const alert = { id: row.id, riderId: row.rider_id, rule: row.rule, severity: row.severity, detail: row.detail, recordedAt: row.recorded_at.toISOString() };
  await deps.redis.publish(fraudAlertChannel(deps.config.queuePrefix), JSON.stringify(alert));
  await Promise.all(
    deps.config.opsUserIds.map((userId) =>
      notify(deps, {
        event: 'ops.fraud_alert',
        recipient: { userId },
        channels: ['push'],
        data: { alertId: row.id, riderId: row.rider_id, rule: row.rule, detail: row.detail },
        idempotencyKey: `fraud-alert:${row.id}`,
      }),
    ),
  );
}
