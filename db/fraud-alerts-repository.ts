import type { Knex } from 'knex';
import type { FraudFinding } from '../domain/location/fraud-rules.ts';

export interface FraudAlertRow {
  id: string;
  rider_id: string;
  rule: string;
  severity: string;
  recorded_at: Date;
  evidence: unknown;
  detail: string;
  alert: boolean;
  created_at: Date;
}

/** Stores findings; returns only the ones not seen before, so each alert goes out once. */
export async function insertFindings(db: Knex, findings: readonly FraudFinding[]): Promise<FraudAlertRow[]> {
  if (findings.length === 0) return [];
  return db('fraud_alerts')
    .insert(
      findings.map((f) => ({
        rider_id: f.riderId,
        rule: f.rule,
        severity: f.severity,
        recorded_at: new Date(f.recordedAt),
        evidence: JSON.stringify(f.evidence),
        detail: f.detail,
        alert: f.alert,
      })),
    )
    .onConflict(['rider_id', 'rule', 'recorded_at'])
    .ignore()
    .returning<FraudAlertRow[]>('*');
}

export async function listFraudAlerts(db: Knex, filter: { riderId?: string; since?: Date; limit: number }): Promise<FraudAlertRow[]> {
  const query = db('fraud_alerts').orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.riderId) query.where({ rider_id: filter.riderId });
  if (filter.since) query.where('created_at', '>=', filter.since);
  return query.select<FraudAlertRow[]>('*');
}

/** Riders among `riderIds` with a critical finding since `since`: dispatch does not offer them work. */
export async function suspendedRiders(db: Knex, riderIds: readonly string[], since: Date): Promise<Set<string>> {
  if (riderIds.length === 0) return new Set();
  const rows = await db('fraud_alerts').whereIn('rider_id', riderIds).where({ severity: 'critical' }).where('created_at', '>=', since).distinct<{ rider_id: string }[]>('rider_id');
  return new Set(rows.map((r) => r.rider_id));
}
