/**
 * One record of a batch, as a browser or app sends it, checked and turned into a `ClickstreamEvent`.
 * Every problem of a record is named in its error message; the Avro encode that follows is the final
 * check against the schema itself.
 */
import { ClickstreamEventTypeValues, UserAgentClassValues, type ClickstreamEvent, type ClickstreamEventType, type UserAgentClass } from '@app/contracts';
import { classifyUserAgent } from './event-filter';

export const COLLECTOR_PRODUCER = 'clickstream-collector';

/** Per-record error codes of the PutRecords-style answer. */
export type RecordErrorCode = 'MalformedRecord' | 'InvalidEvent' | 'EncodingFailed' | 'ServiceUnavailable' | 'InternalFailure';

export interface RecordError {
  errorCode: RecordErrorCode;
  errorMessage: string;
}

export type CheckedRecord = { ok: true; event: ClickstreamEvent } | ({ ok: false } & RecordError);

export interface InputContext {
  /** The request's User-Agent header; a record's own `userAgent` wins (server-side forwarders). */
  userAgent?: string;
  /** Classifies a user agent; the ingest passes a cached one (a batch shares one user agent). */
  classify?: (userAgent: string | undefined) => UserAgentClass;
  now: number;
  maxFutureSkewMs: number;
  botUserAgents: ReadonlyArray<string | RegExp>;
}

/** Fields a record may carry; anything else is refused by name (a typo must not lose data silently). */
const WIRE_FIELDS = new Set([
  'eventId',
  'occurredAt',
  'eventType',
  'sessionId',
  'customerId',
  'productSku',
  'searchQuery',
  'pageUrl',
  'referrer',
  'country',
  'userAgent',
  'userAgentClass',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX = { sessionId: 128, customerId: 128, productSku: 128, searchQuery: 256, pageUrl: 2048, referrer: 253, userAgent: 1024 };

/** A path without query string or fragment (the schema keeps the path only); full URLs are reduced to their path. */
export function pagePath(value: string): string {
  if (value.charCodeAt(0) === 47 /* / */ && value.indexOf('?') < 0 && value.indexOf('#') < 0) return value; // the common case, no allocation
  let path = value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      path = new URL(value).pathname;
    } catch {
      return value.split(/[?#]/)[0];
    }
  }
  return path.split(/[?#]/)[0] || '/';
}

/** The referring host only (the schema keeps the host): `https://www.example.com/a?b` → `www.example.com`. */
export function referrerHost(value: string): string {
  if (/^[a-z0-9.-]+$/i.test(value)) return value; // already a host: no URL parse
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`).hostname || value;
  } catch {
    return value;
  }
}

function occurredAtOf(value: unknown): Date | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return new Date(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return undefined;
}

/** Checks one record and builds the event; a record that is not a JSON object is `MalformedRecord`. */
export function checkRecord(raw: unknown, ctx: InputContext): CheckedRecord {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errorCode: 'MalformedRecord', errorMessage: 'a record must be a JSON object' };
  }
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  let unknown: string[] | undefined;
  for (const k in r) if (!WIRE_FIELDS.has(k)) (unknown ??= []).push(k);
  if (unknown) problems.push(`unknown field(s) ${unknown.join(', ')}`);

  const text = (field: keyof typeof MAX, required: boolean): string | null => {
    const v = r[field];
    if (v === undefined || v === null) {
      if (required) problems.push(`${field} is required`);
      return null;
    }
    if (typeof v !== 'string' || (required && v.length === 0)) {
      problems.push(`${field} must be a${required ? ' non-empty' : ''} string`);
      return null;
    }
    if (v.length > MAX[field]) problems.push(`${field} longer than ${MAX[field]} characters`);
    return v;
  };

  const eventId = r.eventId;
  if (typeof eventId !== 'string' || !UUID.test(eventId)) problems.push('eventId must be a UUID');
  const occurredAt = occurredAtOf(r.occurredAt);
  if (!occurredAt) problems.push('occurredAt must be an ISO-8601 time or epoch milliseconds');
  else if (occurredAt.getTime() > ctx.now + ctx.maxFutureSkewMs) problems.push(`occurredAt is more than ${ctx.maxFutureSkewMs} ms in the future`);
  const eventType = r.eventType;
  if (typeof eventType !== 'string' || !(ClickstreamEventTypeValues as readonly string[]).includes(eventType)) {
    problems.push(`eventType must be one of ${ClickstreamEventTypeValues.join(', ')}`);
  }
  const sessionId = text('sessionId', true);
  const pageUrl = text('pageUrl', true);
  const customerId = text('customerId', false);
  const productSku = text('productSku', false);
  const searchQuery = text('searchQuery', false);
  const referrer = text('referrer', false);
  const userAgent = text('userAgent', false) ?? ctx.userAgent;
  const country = r.country;
  if (country !== undefined && country !== null && (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country))) {
    problems.push('country must be an ISO 3166-1 alpha-2 code (two capital letters)');
  }
  const declaredClass = r.userAgentClass;
  if (declaredClass !== undefined && !(UserAgentClassValues as readonly unknown[]).includes(declaredClass)) {
    problems.push(`userAgentClass must be one of ${UserAgentClassValues.join(', ')}`);
  }
  if (eventType === 'PRODUCT_VIEW' || eventType === 'ADD_TO_CART') {
    if (!productSku) problems.push(`productSku is required for ${eventType}`);
  }
  if (eventType === 'SEARCH' && !searchQuery) problems.push('searchQuery is required for SEARCH');
  if (problems.length > 0) return { ok: false, errorCode: 'InvalidEvent', errorMessage: problems.join('; ') };

  // A declared BOT or APP class stands; otherwise the user agent decides (a bot never passes as a browser).
  const derived = ctx.classify ? ctx.classify(userAgent) : classifyUserAgent(userAgent, ctx.botUserAgents);
  const userAgentClass: UserAgentClass =
    derived === 'BOT' || declaredClass === undefined || declaredClass === 'UNKNOWN' ? derived : (declaredClass as UserAgentClass);
  return {
    ok: true,
    event: {
      eventId: (eventId as string).toLowerCase(),
      occurredAt: occurredAt!,
      producer: COLLECTOR_PRODUCER,
      correlationId: sessionId!,
      eventType: eventType as ClickstreamEventType,
      sessionId: sessionId!,
      customerId,
      productSku,
      searchQuery,
      pageUrl: pagePath(pageUrl!),
      referrer: referrer === null ? null : referrerHost(referrer),
      userAgentClass,
      country: (country as string | null | undefined) ?? null,
    },
  };
}
