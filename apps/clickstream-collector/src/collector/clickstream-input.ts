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

const EVENT_TYPES: ReadonlySet<unknown> = new Set(ClickstreamEventTypeValues);
const USER_AGENT_CLASSES: ReadonlySet<unknown> = new Set(UserAgentClassValues);
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

/** 0 when `value` is not a UUID (8-4-4-4-12 hex digits), 1 when it is in lower case, 2 when it has capitals. */
function uuidCase(value: unknown): 0 | 1 | 2 {
  if (typeof value !== 'string' || value.length !== 36) return 0;
  let capitals = false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return 0;
    } else if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) {
      // 0-9, a-f
    } else if (c >= 65 && c <= 70) {
      capitals = true; // A-F
    } else return 0;
  }
  return capitals ? 2 : 1;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Starts as an ISO-8601 date and time (YYYY-MM-DDT…): the only strings taken as times. */
function looksIsoDateTime(value: string): boolean {
  return (
    value.length > 10 &&
    isDigit(value.charCodeAt(0)) &&
    isDigit(value.charCodeAt(1)) &&
    isDigit(value.charCodeAt(2)) &&
    isDigit(value.charCodeAt(3)) &&
    value.charCodeAt(4) === 45 &&
    isDigit(value.charCodeAt(5)) &&
    isDigit(value.charCodeAt(6)) &&
    value.charCodeAt(7) === 45 &&
    isDigit(value.charCodeAt(8)) &&
    isDigit(value.charCodeAt(9)) &&
    value.charCodeAt(10) === 84 /* T */
  );
}

const isCountryCode = (value: string) => value.length === 2 && value.charCodeAt(0) >= 65 && value.charCodeAt(0) <= 90 && value.charCodeAt(1) >= 65 && value.charCodeAt(1) <= 90;

function occurredAtOf(value: unknown): Date | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return new Date(value);
  if (typeof value === 'string' && looksIsoDateTime(value)) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return undefined;
}

/** An optional text field that is absent, or a string within its limit. */
const optionalText = (v: unknown, max: number) => v === undefined || v === null || (typeof v === 'string' && v.length <= max);
/** A required text field: a non-empty string within its limit. */
const requiredText = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Checks one record and builds the event; a record that is not a JSON object is `MalformedRecord`.
 * Nearly every record is valid: it is checked in one pass that allocates nothing but the event; a
 * record failing that pass is checked again field by field to name each of its problems.
 */
export function checkRecord(raw: unknown, ctx: InputContext): CheckedRecord {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errorCode: 'MalformedRecord', errorMessage: 'a record must be a JSON object' };
  }
  const r = raw as Record<string, unknown>;
  for (const k in r) if (!WIRE_FIELDS.has(k)) return checkRecordFully(r, ctx);
  const idCase = uuidCase(r.eventId);
  const occurredAt = idCase === 0 ? undefined : occurredAtOf(r.occurredAt);
  const eventType = r.eventType;
  const { sessionId, pageUrl, customerId, productSku, searchQuery, referrer, userAgent, country, userAgentClass: declaredClass } = r;
  if (
    occurredAt === undefined ||
    occurredAt.getTime() > ctx.now + ctx.maxFutureSkewMs ||
    !EVENT_TYPES.has(eventType) ||
    !requiredText(sessionId, MAX.sessionId) ||
    !requiredText(pageUrl, MAX.pageUrl) ||
    !optionalText(customerId, MAX.customerId) ||
    !optionalText(productSku, MAX.productSku) ||
    !optionalText(searchQuery, MAX.searchQuery) ||
    !optionalText(referrer, MAX.referrer) ||
    !optionalText(userAgent, MAX.userAgent) ||
    (country !== undefined && country !== null && (typeof country !== 'string' || !isCountryCode(country))) ||
    (declaredClass !== undefined && !USER_AGENT_CLASSES.has(declaredClass)) ||
    ((eventType === 'PRODUCT_VIEW' || eventType === 'ADD_TO_CART') && !productSku) ||
    (eventType === 'SEARCH' && !searchQuery)
  ) {
    return checkRecordFully(r, ctx);
  }
  const text = (v: unknown) => (v === undefined || v === null ? null : (v as string));
  return {
    ok: true,
    event: eventOf(
      r,
      idCase === 2 ? (r.eventId as string).toLowerCase() : (r.eventId as string),
      occurredAt,
      text(customerId),
      text(productSku),
      text(searchQuery),
      text(referrer),
      text(userAgent) ?? ctx.userAgent,
      ctx,
    ),
  };
}

/** The event of a record whose fields have been checked. */
function eventOf(
  r: Record<string, unknown>,
  eventId: string,
  occurredAt: Date,
  customerId: string | null,
  productSku: string | null,
  searchQuery: string | null,
  referrer: string | null,
  userAgent: string | undefined,
  ctx: InputContext,
): ClickstreamEvent {
  const declaredClass = r.userAgentClass;
  // A declared BOT or APP class stands; otherwise the user agent decides (a bot never passes as a browser).
  const derived = ctx.classify ? ctx.classify(userAgent) : classifyUserAgent(userAgent, ctx.botUserAgents);
  const userAgentClass: UserAgentClass =
    derived === 'BOT' || declaredClass === undefined || declaredClass === 'UNKNOWN' ? derived : (declaredClass as UserAgentClass);
  const sessionId = r.sessionId as string;
  return {
    eventId,
    occurredAt,
    producer: COLLECTOR_PRODUCER,
    correlationId: sessionId,
    eventType: r.eventType as ClickstreamEventType,
    sessionId,
    customerId,
    productSku,
    searchQuery,
    pageUrl: pagePath(r.pageUrl as string),
    referrer: referrer === null ? null : referrerHost(referrer),
    userAgentClass,
    country: (r.country as string | null | undefined) ?? null,
  };
}

/** Checks every field of a record, naming each problem; builds the event when there is none (exported for its spec). */
export function checkRecordFully(r: Record<string, unknown>, ctx: InputContext): CheckedRecord {
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
  if (uuidCase(eventId) === 0) problems.push('eventId must be a UUID');
  const occurredAt = occurredAtOf(r.occurredAt);
  if (!occurredAt) problems.push('occurredAt must be an ISO-8601 time or epoch milliseconds');
  else if (occurredAt.getTime() > ctx.now + ctx.maxFutureSkewMs) problems.push(`occurredAt is more than ${ctx.maxFutureSkewMs} ms in the future`);
  const eventType = r.eventType;
  if (!EVENT_TYPES.has(eventType)) {
    problems.push(`eventType must be one of ${ClickstreamEventTypeValues.join(', ')}`);
  }
  text('sessionId', true);
  text('pageUrl', true);
  const customerId = text('customerId', false);
  const productSku = text('productSku', false);
  const searchQuery = text('searchQuery', false);
  const referrer = text('referrer', false);
  const userAgent = text('userAgent', false) ?? ctx.userAgent;
  const country = r.country;
  if (country !== undefined && country !== null && (typeof country !== 'string' || !isCountryCode(country))) {
    problems.push('country must be an ISO 3166-1 alpha-2 code (two capital letters)');
  }
  const declaredClass = r.userAgentClass;
  if (declaredClass !== undefined && !USER_AGENT_CLASSES.has(declaredClass)) {
    problems.push(`userAgentClass must be one of ${UserAgentClassValues.join(', ')}`);
  }
  if (eventType === 'PRODUCT_VIEW' || eventType === 'ADD_TO_CART') {
    if (!productSku) problems.push(`productSku is required for ${eventType}`);
  }
  if (eventType === 'SEARCH' && !searchQuery) problems.push('searchQuery is required for SEARCH');
  if (problems.length > 0) return { ok: false, errorCode: 'InvalidEvent', errorMessage: problems.join('; ') };
  return { ok: true, event: eventOf(r, (eventId as string).toLowerCase(), occurredAt!, customerId, productSku, searchQuery, referrer, userAgent, ctx) };
}
