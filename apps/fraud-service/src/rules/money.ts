import { toUnscaled } from '@app/codec';

/** A decimal(18,2) amount in cents as a Number (exact below 2^53 cents, far above any order). */
export function toUnscaledCents(amount: string): number {
  return Number(toUnscaled(amount, 2));
}
