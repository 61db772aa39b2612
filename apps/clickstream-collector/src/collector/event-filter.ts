/**
 * The lightweight transformation before publishing (what the seed gives to a Firehose function): known
 * bots are dropped by user agent, named fields are dropped (written as null) or replaced by a salted
 * sha256. Pure functions over settings validated at boot.
 */
import { createHash } from 'node:crypto';
import type { ClickstreamEvent, UserAgentClass } from '@app/contracts';
import type { FilterSettings } from './collector-settings';

export function isBotUserAgent(userAgent: string, patterns: ReadonlyArray<string | RegExp>): boolean {
  const ua = userAgent.toLowerCase();
  return patterns.some((p) => (typeof p === 'string' ? ua.includes(p) : p.test(userAgent)));
}

/** Coarse class of a browser's user agent; the raw string is never kept (see the schema). */
export function classifyUserAgent(userAgent: string | undefined, botPatterns: ReadonlyArray<string | RegExp>): UserAgentClass {
  if (!userAgent) return 'UNKNOWN';
  if (isBotUserAgent(userAgent, botPatterns)) return 'BOT';
  if (/iPad|Tablet|PlayBook|Silk|Kindle/i.test(userAgent) || (/Android/i.test(userAgent) && !/Mobile/i.test(userAgent))) return 'TABLET';
  if (/Mobi|iPhone|iPod|Android|Windows Phone/i.test(userAgent)) return 'MOBILE';
  if (/Windows NT|Macintosh|X11|Linux|CrOS/i.test(userAgent)) return 'DESKTOP';
  return 'UNKNOWN';
}

export type FilterOutcome = { keep: true; event: ClickstreamEvent } | { keep: false; reason: 'BOT_USER_AGENT' };

export function hashValue(value: string, salt: string): string {
  return createHash('sha256').update(salt).update(value).digest('hex');
}

/** Applies the configured filter to one validated event (a new object; the input is not changed). */
export function filterEvent(event: ClickstreamEvent, settings: FilterSettings): FilterOutcome {
  if (settings.dropBots && event.userAgentClass === 'BOT') return { keep: false, reason: 'BOT_USER_AGENT' };
  if (settings.dropFields.length === 0 && settings.hashFields.length === 0) return { keep: true, event };
  const out: ClickstreamEvent = { ...event };
  for (const field of settings.dropFields) out[field] = null;
  for (const field of settings.hashFields) {
    const value = out[field];
    if (typeof value === 'string') (out as unknown as Record<string, string>)[field] = hashValue(value, settings.hashSalt);
  }
  // The session id is the correlation id of clickstream events: hashed together, so they still join.
  if (settings.hashFields.includes('sessionId')) out.correlationId = out.sessionId;
  return { keep: true, event: out };
}
