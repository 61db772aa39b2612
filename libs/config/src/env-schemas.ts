/**
 * zod schemas for single environment variables that services and libs share (durations, sizes,
 * integers, flags), so every setting is written and refused the same way. Each takes the variable's
 * string (or its absence) and yields a number or boolean; blank means the default. Messages say what
 * was expected and within which bounds; the caller names the variable (see {@link configErrorFrom}).
 */
import { z } from 'zod';
import { ConfigError } from './app-config';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const UNIT_BYTES: Record<string, number> = { b: 1, kib: KIB, mib: MIB, gib: GIB };

/** `250ms`, `30s`, `10m`, `2h`, `1d`, or bare milliseconds; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] ?? 'ms'] : undefined;
}

/** `1048576`, `64MiB`, `512KiB`, `1GiB` (binary units, case-insensitive); undefined when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*(b|kib|mib|gib)?$/i.exec(text.trim());
  return m ? Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()] : undefined;
}

/** Unset, empty or only spaces: the variable takes its default. */
export function isBlank(value: string | undefined): value is undefined | '' {
  return value === undefined || value.trim() === '';
}

function bounds(min: number, max: number, unit: string): string {
  if (max === Number.MAX_SAFE_INTEGER) return min > 0 ? ` (at least ${min}${min === 1 ? unit.replace(/s$/, '') : unit})` : '';
  return ` (${min} to ${max}${unit})`;
}

/** A number variable read by `parse`, inside [min, max]; blank is `fallback`. */
function bounded(fallback: number, min: number, max: number, parse: (text: string) => number | undefined, expected: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (isBlank(v)) return fallback;
      const n = parse(v);
      if (n === undefined || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      return n;
    });
}

/** A whole number from `min` to `max` (`expected an integer from 1 to 64`). */
export function envInteger(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const expected = max === Number.MAX_SAFE_INTEGER ? `expected an integer of at least ${min}` : `expected an integer from ${min} to ${max}`;
  return bounded(fallback, min, max, (text) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : undefined), expected);
}

/** A duration in milliseconds: `30s`, `10m`, `2h`, `1d`, `250ms` or bare milliseconds. */
export function envDuration(fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return bounded(fallback, min, max, parseDurationMs, `expected a duration such as 30s, 10m or 2h${bounds(min, max, ' ms')}`);
}

/** A size in bytes: `64MiB`, `512KiB`, `1GiB` or bare bytes. */
export function envByteSize(fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return bounded(fallback, min, max, parseByteSize, `expected a size such as 64MiB or 1048576${bounds(min, max, ' bytes')}`);
}

/** `true`/`false` (also `1`/`0`, any case). */
export function envFlag(fallback: boolean) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (isBlank(v)) return fallback;
      const t = v.trim().toLowerCase();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      ctx.addIssue({ code: 'custom', message: 'expected true or false' });
      return z.NEVER;
    });
}

/** One {@link ConfigError} naming the variable of every issue of a failed environment parse. */
export function configErrorFrom(error: z.ZodError): ConfigError {
  return new ConfigError(error.issues.map((issue) => ({ variable: issue.path.map(String).join('.') || '(environment)', message: issue.message })));
}
