import type { Knex } from 'knex';

export type DevicePlatform = 'ios' | 'android' | 'web';

/** Registers a token for a user; a token seen before moves to this user (phones change hands). */
export async function registerDevice(db: Knex, userId: string, token: string, platform: DevicePlatform): Promise<void> {
  await db('device_tokens')
    .insert({ token, user_id: userId, platform })
    .onConflict('token')
    .merge({ user_id: userId, platform, updated_at: db.fn.now() });
}

/** Removes a user's token; false when the user had no such token. */
export async function unregisterDevice(db: Knex, userId: string, token: string): Promise<boolean> {
  return (await db('device_tokens').where({ token, user_id: userId }).delete()) > 0;
}

export async function deviceTokens(db: Knex, userId: string): Promise<string[]> {
  const rows = await db('device_tokens').where({ user_id: userId }).orderBy('updated_at', 'desc').select<{ token: string }[]>('token');
  return rows.map((r) => r.token);
}

/** Drops tokens the push service reported as unregistered or invalid. */
export async function removeDeviceTokens(db: Knex, tokens: string[]): Promise<number> {
  if (tokens.length === 0) return 0;
  return db('device_tokens').whereIn('token', tokens).delete();
}
