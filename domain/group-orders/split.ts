/**
 * Who pays what in a group order (seed 002, 5.3), in integer won.
 *
 * - SPLIT (나눠먹기): one shared menu; each pays half of (menu + tip).
 * - EACH (각자먹기): each pays their own menu plus half the delivery tip.
 *
 * An odd won cannot be halved, so it goes to the creator: the creator pays the rounded-up half and
 * the joiner the rounded-down half. The creator chose the restaurant and the time, and the rule
 * needs no tie-break. The creator's share never depends on the joiner, so what is held when a
 * group opens is exactly what is captured when it matches, and creator + joiner is always exactly
 * the order's total.
 */
export const GROUP_MODES = ['SPLIT', 'EACH'] as const;
export type GroupMode = (typeof GROUP_MODES)[number];

export interface ShareInput {
  mode: GroupMode;
  /** SPLIT: the shared menu; EACH: the creator's own menu. Won, > 0. */
  creatorMenu: number;
  /** EACH: the joiner's own menu; SPLIT: 0 (the menu is shared). Won, >= 0. */
  joinerMenu: number;
  /** The restaurant's delivery tip. Won, >= 0. */
  deliveryTip: number;
}

export interface Shares {
  creator: number;
  joiner: number;
  /** What the order costs: menu(s) + tip. Always creator + joiner. */
  total: number;
}

export function splitShares(input: ShareInput): Shares {
  for (const [name, value] of Object.entries({ creatorMenu: input.creatorMenu, joinerMenu: input.joinerMenu, deliveryTip: input.deliveryTip })) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of won, not ${value}`);
  }
  if (input.mode === 'SPLIT') {
    if (input.joinerMenu !== 0) throw new RangeError('a SPLIT group shares one menu; the joiner adds none');
    const total = input.creatorMenu + input.deliveryTip;
    const creator = Math.ceil(total / 2);
    return { creator, joiner: total - creator, total };
  }
  const creatorTip = Math.ceil(input.deliveryTip / 2);
  const creator = input.creatorMenu + creatorTip;
  const joiner = input.joinerMenu + (input.deliveryTip - creatorTip);
  return { creator, joiner, total: creator + joiner };
}

/** What the creator pays, known when the group opens: held then, captured at the match. */
export function creatorShare(mode: GroupMode, creatorMenu: number, deliveryTip: number): number {
  return splitShares({ mode, creatorMenu, joinerMenu: 0, deliveryTip }).creator;
}
