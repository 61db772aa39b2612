/**
 * The collector's own settings: defaults are data, the environment is validated once with zod and every
 * bad variable is named in a {@link ConfigError} (the service exits 78 at boot).
 */
import { z } from 'zod';
import { configErrorFrom, envByteSize, envFlag, envInteger, isBlank } from '@app/config';
import { topics } from '@app/contracts';

const MIB = 1024 * 1024;

/** Fields the filter may drop (nullable in ClickstreamEvent, so a dropped field is written as null). */
export const DROPPABLE_FIELDS = ['customerId', 'productSku', 'searchQuery', 'referrer', 'country'] as const;
/** Fields the filter may hash (strings: hex sha256 of salt + value). `sessionId` is the key: hashing it keeps sessions together. */
export const HASHABLE_FIELDS = ['customerId', 'sessionId', 'searchQuery', 'referrer', 'productSku'] as const;
export type DroppableField = (typeof DROPPABLE_FIELDS)[number];
export type HashableField = (typeof HASHABLE_FIELDS)[number];

/**
 * User agents treated as bots by default (case-insensitive substrings). HeadlessChrome is on it: real
 * shoppers do not browse headless, scrapers and monitoring do.
 */
export const DEFAULT_BOT_USER_AGENTS = [
  'bot',
  'crawler',
  'spider',
  'slurp',
  'crawl',
  'facebookexternalhit',
  'headlesschrome',
  'phantomjs',
  'python-requests',
  'curl/',
  'wget/',
  'go-http-client',
  'java/',
  'okhttp',
];

export const collectorDefaults = {
  topic: topics.clickstream.name,
  /** PutRecords' own limits: 500 records per call, 5 MiB per call (after gzip is undone). */
  maxBatchEvents: 500,
  maxBatchBytes: 5 * MIB,
  /** Bytes of request bodies being read or published at once; above it new requests get 429. */
  maxInFlightBytes: 64 * MIB,
  maxInFlightRequests: 64,
  /** Seconds a throttled or unavailable answer tells the client to wait. */
  retryAfterSeconds: 1,
  /** How long a request waits for Kafka's acknowledgement (acks=all) before its records fail. */
  publishTimeoutMs: 5_000,
  /** Events stamped further in the future than this are refused (a wrong clock would open lake hours ahead). */
  maxFutureSkewMs: 60 * 60_000,
  dropBots: true,
  autoRegister: true,
} as const;

export interface FilterSettings {
  dropBots: boolean;
  /** Lower-case substrings, or regular expressions, matched against the user agent. */
  botUserAgents: Array<string | RegExp>;
  dropFields: DroppableField[];
  hashFields: HashableField[];
  hashSalt: string;
}

export interface CollectorSettings {
  topic: string;
  maxBatchEvents: number;
  maxBatchBytes: number;
  maxInFlightBytes: number;
  maxInFlightRequests: number;
  retryAfterSeconds: number;
  publishTimeoutMs: number;
  maxFutureSkewMs: number;
  autoRegister: boolean;
  filter: FilterSettings;
}

function fieldList<F extends string>(allowed: readonly F[]) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (isBlank(v)) return [] as F[];
      const names = v.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(allowed as readonly string[]).includes(n));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `${unknown.join(', ')} not allowed here; one of: ${allowed.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(names)] as F[];
    });
}

/** `a,b,/c+/i`: substrings (case-insensitive) or /regex/flags; `none` turns the list off. */
function userAgentPatterns() {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (isBlank(v)) return DEFAULT_BOT_USER_AGENTS as Array<string | RegExp>;
      if (v.trim().toLowerCase() === 'none') return [];
      const out: Array<string | RegExp> = [];
      for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        const re = /^\/(.+)\/([a-z]*)$/.exec(part);
        if (!re) {
          out.push(part.toLowerCase());
          continue;
        }
        try {
          out.push(new RegExp(re[1], re[2]));
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `bad regular expression ${part}: ${(err as Error).message}` });
          return z.NEVER;
        }
      }
      return out;
    });
}

const topicName = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (isBlank(v)) return collectorDefaults.topic as string;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(v.trim())) {
      ctx.addIssue({ code: 'custom', message: 'expected a Kafka topic name' });
      return z.NEVER;
    }
    return v.trim();
  });

export const collectorEnvironmentSchema = z
  .object({
    CLICKSTREAM_TOPIC: topicName,
    CLICKSTREAM_MAX_BATCH_EVENTS: envInteger(collectorDefaults.maxBatchEvents, 1, 500),
    CLICKSTREAM_MAX_BATCH_BYTES: envByteSize(collectorDefaults.maxBatchBytes, 1024, 5 * MIB),
    CLICKSTREAM_MAX_INFLIGHT_BYTES: envByteSize(collectorDefaults.maxInFlightBytes, 1024),
    CLICKSTREAM_MAX_INFLIGHT_REQUESTS: envInteger(collectorDefaults.maxInFlightRequests, 1, 10_000),
    CLICKSTREAM_RETRY_AFTER_SECONDS: envInteger(collectorDefaults.retryAfterSeconds, 1, 3_600),
    CLICKSTREAM_PUBLISH_TIMEOUT_MS: envInteger(collectorDefaults.publishTimeoutMs, 100, 120_000),
    CLICKSTREAM_MAX_FUTURE_SKEW_MS: envInteger(collectorDefaults.maxFutureSkewMs, 0),
    CLICKSTREAM_SCHEMA_AUTO_REGISTER: envFlag(collectorDefaults.autoRegister),
    CLICKSTREAM_DROP_BOTS: envFlag(collectorDefaults.dropBots),
    CLICKSTREAM_BOT_USER_AGENTS: userAgentPatterns(),
    CLICKSTREAM_DROP_FIELDS: fieldList(DROPPABLE_FIELDS),
    CLICKSTREAM_HASH_FIELDS: fieldList(HASHABLE_FIELDS),
    CLICKSTREAM_HASH_SALT: z.string().optional().default(''),
  })
  .superRefine((env, ctx) => {
    const both = env.CLICKSTREAM_DROP_FIELDS.filter((f) => (env.CLICKSTREAM_HASH_FIELDS as string[]).includes(f));
    if (both.length > 0) ctx.addIssue({ code: 'custom', path: ['CLICKSTREAM_HASH_FIELDS'], message: `${both.join(', ')} also in CLICKSTREAM_DROP_FIELDS` });
    if (env.CLICKSTREAM_MAX_INFLIGHT_BYTES < env.CLICKSTREAM_MAX_BATCH_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['CLICKSTREAM_MAX_INFLIGHT_BYTES'], message: 'must be at least CLICKSTREAM_MAX_BATCH_BYTES (one full batch must fit)' });
    }
  });

/** The collector's settings from the environment, naming every bad variable (exit 78 at boot). */
export function loadCollectorSettings(env: NodeJS.ProcessEnv): CollectorSettings {
  const parsed = collectorEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw configErrorFrom(parsed.error);
  }
  const e = parsed.data;
  return {
    topic: e.CLICKSTREAM_TOPIC,
    maxBatchEvents: e.CLICKSTREAM_MAX_BATCH_EVENTS,
    maxBatchBytes: e.CLICKSTREAM_MAX_BATCH_BYTES,
    maxInFlightBytes: e.CLICKSTREAM_MAX_INFLIGHT_BYTES,
    maxInFlightRequests: e.CLICKSTREAM_MAX_INFLIGHT_REQUESTS,
    retryAfterSeconds: e.CLICKSTREAM_RETRY_AFTER_SECONDS,
    publishTimeoutMs: e.CLICKSTREAM_PUBLISH_TIMEOUT_MS,
    maxFutureSkewMs: e.CLICKSTREAM_MAX_FUTURE_SKEW_MS,
    autoRegister: e.CLICKSTREAM_SCHEMA_AUTO_REGISTER,
    filter: {
      dropBots: e.CLICKSTREAM_DROP_BOTS,
      botUserAgents: e.CLICKSTREAM_BOT_USER_AGENTS,
      dropFields: e.CLICKSTREAM_DROP_FIELDS,
      hashFields: e.CLICKSTREAM_HASH_FIELDS,
      hashSalt: e.CLICKSTREAM_HASH_SALT,
    },
  };
}
