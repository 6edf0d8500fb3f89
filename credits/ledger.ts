import type { Knex } from 'knex';
import {
  appendEntry,
  entriesForRef,
  insertAccount,
  listEntries,
  lockAccount,
  moveBalance,
  readBalance,
  type Balance,
  type LedgerKind,
  type LedgerRow,
} from '../db/credit-ledger-repository.ts';

export type { Balance, LedgerKind };

/**
 * The credit ledger shared by gifts and group orders. Every function that changes money takes a
 * knex transaction first, so callers change their own rows in the same transaction, and every
 * change locks the user's account row first: one user's credit changes are serialised, so a
 * spend can never overdraw and a repeat of the same (kind, reference) is seen and skipped.
 *
 * Kinds: grant, top_up (+available) · hold (available→held) · capture (held→spent) ·
 * release (held→available) · debit (available→spent) · refund (spent→available).
 */

/** What a ledger entry is about, e.g. `{type: 'gift', id: giftId}`. One (user, kind, ref) happens once. */
export interface CreditRef {
  type: string;
  id: string;
}

export interface LedgerEntry {
  id: number;
  kind: LedgerKind;
  amount: number;
  ref: CreditRef;
  memo: string | null;
  createdAt: Date;
}

export interface LedgerOptions {
  /** Won granted when an account is first touched. Default 50,000 (`CREDITS_WELCOME`). */
  welcome?: number;
}

export const DEFAULT_WELCOME_CREDITS = 50_000;

/** A spend larger than what is available. The API answers 409 naming `path`. */
export class InsufficientCreditsError extends Error {
  override name = 'InsufficientCreditsError';
  constructor(
    readonly available: number,
    readonly required: number,
    /** The request field the shortfall is about. Default `amount`. */
    readonly path = 'amount',
  ) {
    super(`not enough credits: ${required.toLocaleString('ko-KR')}원 needed, ${available.toLocaleString('ko-KR')}원 available`);
  }
}

/** A capture of a hold that does not exist or was already released: a caller's logic error. */
export class CreditHoldError extends Error {
  override name = 'CreditHoldError';
}

/** Creates the account with the welcome grant the first time a user is touched; later calls do nothing. */
export async function ensureAccount(trx: Knex, userId: string, options: LedgerOptions = {}): Promise<void> {
  const welcome = options.welcome ?? DEFAULT_WELCOME_CREDITS;
  if (!(await insertAccount(trx, userId, welcome))) return;
  if (welcome > 0) await appendEntry(trx, { userId, kind: 'grant', amount: welcome, refType: 'welcome', refId: userId, memo: '가입 환영 크레딧' });
}

/** The cached balance; an account never touched has nothing yet (the welcome grant comes on first touch). */
export async function balance(db: Knex, userId: string): Promise<Balance> {
  return (await readBalance(db, userId)) ?? { available: 0, held: 0 };
}

export async function history(db: Knex, userId: string, options: { limit: number; before?: number }): Promise<LedgerEntry[]> {
  return (await listEntries(db, userId, options)).map(toEntry);
}

export interface AmountInput {
  userId: string;
  /** Integer won, > 0. */
  amount: number;
  ref: CreditRef;
  memo?: string;
}

export interface RefInput {
  userId: string;
  ref: CreditRef;
  memo?: string;
}

export async function topUp(trx: Knex, input: AmountInput, options?: LedgerOptions): Promise<Balance> {
  checkAmount(input.amount);
  return change(trx, input, options, (current, done) => {
    if (done.has('top_up')) return current;
    return apply(trx, input, 'top_up', input.amount, { available: input.amount, held: 0 }, current);
  });
}

/** Moves `amount` from available to held under `ref`. Throws InsufficientCreditsError. */
export async function hold(trx: Knex, input: AmountInput, options?: LedgerOptions): Promise<Balance> {
  checkAmount(input.amount);
  return change(trx, input, options, (current, done) => {
    if (done.has('hold')) return current;
    return apply(trx, input, 'hold', input.amount, { available: -input.amount, held: input.amount }, current);
  });
}

/** Spends the whole hold under `ref`. A repeat is a no-op; a missing or released hold throws CreditHoldError. */
export async function capture(trx: Knex, input: RefInput, options?: LedgerOptions): Promise<Balance> {
  return change(trx, input, options, (current, done) => {
    if (done.has('capture')) return current;
    const held = done.get('hold');
    if (held === undefined) throw new CreditHoldError(`no hold under ${input.ref.type}:${input.ref.id} for ${input.userId}`);
    if (done.has('release')) throw new CreditHoldError(`the hold under ${input.ref.type}:${input.ref.id} was already released`);
    return apply(trx, input, 'capture', held, { available: 0, held: -held }, current);
  });
}

/** Returns the whole hold under `ref` to available; a no-op when captured, released or never held. */
export async function release(trx: Knex, input: RefInput, options?: LedgerOptions): Promise<Balance> {
  return change(trx, input, options, (current, done) => {
    const held = done.get('hold');
    if (held === undefined || done.has('capture') || done.has('release')) return current;
    return apply(trx, input, 'release', held, { available: held, held: -held }, current);
  });
}

/** Spends `amount` of available under `ref`. Throws InsufficientCreditsError. */
export async function debit(trx: Knex, input: AmountInput, options?: LedgerOptions): Promise<Balance> {
  checkAmount(input.amount);
  return change(trx, input, options, (current, done) => {
    if (done.has('debit')) return current;
    return apply(trx, input, 'debit', input.amount, { available: -input.amount, held: 0 }, current);
  });
}

/** Gives back what was spent (debited or captured) under `ref`, once; a no-op when nothing was spent. */
export async function refund(trx: Knex, input: RefInput, options?: LedgerOptions): Promise<Balance> {
  return change(trx, input, options, (current, done) => {
    const spent = (done.get('debit') ?? 0) + (done.get('capture') ?? 0);
    if (done.has('refund') || spent === 0) return current;
    return apply(trx, input, 'refund', spent, { available: spent, held: 0 }, current);
  });
}

/**
 * Ensures and locks the account, then hands the step the balance and what already happened under
 * the reference (kind → amount). Nothing is written before a step decides, so a thrown
 * InsufficientCreditsError leaves the caller's transaction usable.
 */
async function change(
  trx: Knex,
  input: RefInput,
  options: LedgerOptions | undefined,
  step: (current: Balance, done: Map<LedgerKind, number>) => Promise<Balance> | Balance,
): Promise<Balance> {
  await ensureAccount(trx, input.userId, options);
  const current = (await lockAccount(trx, input.userId))!;
  const done = new Map((await entriesForRef(trx, input.userId, input.ref)).map((e) => [e.kind, Number(e.amount)] as const));
  return step(current, done);
}

async function apply(trx: Knex, input: RefInput, kind: LedgerKind, amount: number, delta: Balance, current: Balance): Promise<Balance> {
  const next = await moveBalance(trx, input.userId, delta);
  if (!next) throw new InsufficientCreditsError(current.available, amount);
  await appendEntry(trx, { userId: input.userId, kind, amount, refType: input.ref.type, refId: input.ref.id, memo: input.memo });
  return next;
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`a credit amount is a positive whole number of won, not ${amount}`);
}

function toEntry(row: LedgerRow): LedgerEntry {
  return { id: Number(row.id), kind: row.kind, amount: Number(row.amount), ref: { type: row.ref_type, id: row.ref_id }, memo: row.memo, createdAt: row.created_at };
}
