/**
 * `POST /v1/events` without the framework: admission (429 before reading), body, records, checks,
 * filter, publish, and the PutRecords-style answer where every record has its own result.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ClickstreamEvent, UserAgentClass } from '@app/contracts';
import { Admission } from './admission';
import { batchFormatOf, BatchRejectedError, isGzip, MalformedLine, parseBatch, readBatchBody } from './batch-body';
import { checkRecord, type RecordError } from './clickstream-input';
import type { PublishResult } from './clickstream-publisher';
import type { CollectorMetrics } from './collector-metrics';
import type { CollectorSettings } from './collector-settings';
import { classifyUserAgent, filterEvent } from './event-filter';

const UA_CACHE_SIZE = 1_000;

/** One record's result: where it was written, why it failed, or that the filter dropped it on purpose. */
export type RecordResult = PublishResult | { dropped: 'BOT_USER_AGENT' };

export interface PutRecordsAnswer {
  failedRecordCount: number;
  records: RecordResult[];
}

export interface IngestAnswer {
  status: number;
  headers: Record<string, string>;
  body: PutRecordsAnswer | { error: string; message: string };
}

export interface EventPublisher {
  publish(events: ClickstreamEvent[]): Promise<PublishResult[]>;
}

export type IngestRequest = Readable & { headers: IncomingHttpHeaders };

const isError = (r: RecordResult): r is RecordError => 'errorCode' in r;

export class ClickstreamIngest {
  readonly admission: Admission;
  /** User agent → class, remembered: a few user agents send most events, and the patterns cost more than the event. */
  private readonly uaClasses = new Map<string, UserAgentClass>();
  private readonly classify = (userAgent: string | undefined): UserAgentClass => {
    if (userAgent === undefined) return 'UNKNOWN';
    let uaClass = this.uaClasses.get(userAgent);
    if (uaClass === undefined) {
      uaClass = classifyUserAgent(userAgent, this.settings.filter.botUserAgents);
      if (this.uaClasses.size >= UA_CACHE_SIZE) this.uaClasses.delete(this.uaClasses.keys().next().value!);
      this.uaClasses.set(userAgent, uaClass);
    }
    return uaClass;
  };

  constructor(
    private readonly settings: CollectorSettings,
    private readonly publisher: EventPublisher,
    private readonly metrics: CollectorMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.admission = new Admission(settings.maxInFlightBytes, settings.maxInFlightRequests);
  }

  private rejected(status: number, error: string, message: string, headers: Record<string, string> = {}): IngestAnswer {
    this.metrics.requests.inc({ outcome: status === 429 ? 'throttled' : 'rejected' });
    return { status, headers, body: { error, message } };
  }

  async handle(req: IngestRequest): Promise<IngestAnswer> {
    let format;
    let gzip: boolean;
    try {
      format = batchFormatOf(req.headers['content-type']);
      gzip = isGzip(req.headers);
    } catch (err) {
      if (err instanceof BatchRejectedError) return this.rejected(err.status, 'UnsupportedMediaType', err.message);
      throw err;
    }
    // Reserve what the body can grow to: its declared size, or the whole batch limit when it is gzip or unknown.
    const declared = Number(req.headers['content-length']);
    const reserve = !gzip && Number.isFinite(declared) && declared >= 0 ? Math.min(declared, this.settings.maxBatchBytes) : this.settings.maxBatchBytes;
    const ticket = this.admission.tryAcquire(reserve);
    if (!ticket) {
      return this.rejected(429, 'TooManyRequests', 'the collector is at capacity; retry after the given delay', {
        'retry-after': String(this.settings.retryAfterSeconds),
      });
    }
    this.metrics.inFlightBytes.set(this.admission.inFlightBytes);
    this.metrics.inFlightRequests.set(this.admission.inFlightRequests);
    try {
      return await this.admitted(req, format);
    } finally {
      this.admission.release(ticket);
      this.metrics.inFlightBytes.set(this.admission.inFlightBytes);
      this.metrics.inFlightRequests.set(this.admission.inFlightRequests);
    }
  }

  private async admitted(req: IngestRequest, format: ReturnType<typeof batchFormatOf>): Promise<IngestAnswer> {
    let raw: unknown[];
    try {
      const body = await readBatchBody(req, this.settings.maxBatchBytes);
      raw = parseBatch(body, format, this.settings.maxBatchEvents);
    } catch (err) {
      if (err instanceof BatchRejectedError) return this.rejected(err.status, err.status === 413 ? 'PayloadTooLarge' : 'BadRequest', err.message);
      throw err;
    }
    const started = this.now();
    const results: RecordResult[] = new Array(raw.length);
    const toPublish: ClickstreamEvent[] = [];
    const publishIndex: number[] = [];
    const context = {
      userAgent: req.headers['user-agent'],
      classify: this.classify,
      now: started,
      maxFutureSkewMs: this.settings.maxFutureSkewMs,
      botUserAgents: this.settings.filter.botUserAgents,
    };
    raw.forEach((record, i) => {
      if (record instanceof MalformedLine) {
        results[i] = { errorCode: 'MalformedRecord', errorMessage: record.message };
        return;
      }
      const checked = checkRecord(record, context);
      if (!checked.ok) {
        results[i] = { errorCode: checked.errorCode, errorMessage: checked.errorMessage };
        return;
      }
      const filtered = filterEvent(checked.event, this.settings.filter);
      if (!filtered.keep) {
        results[i] = { dropped: filtered.reason };
        return;
      }
      publishIndex.push(i);
      toPublish.push(filtered.event);
    });
    const published = await this.publisher.publish(toPublish);
    published.forEach((result, k) => (results[publishIndex[k]] = result));
    this.metrics.publishSeconds.observe((this.now() - started) / 1000);
    return this.answer(results, toPublish, published);
  }

  private answer(results: RecordResult[], sent: ClickstreamEvent[], published: PublishResult[]): IngestAnswer {
    let failed = 0;
    let unavailable = 0;
    let ok = 0;
    // Counted per request, then added once per label set: a labelled inc per event costs more than the event.
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    for (const r of results) {
      if (isError(r)) {
        failed++;
        if (r.errorCode === 'ServiceUnavailable') unavailable++;
        count(r.errorCode === 'ServiceUnavailable' || r.errorCode === 'InternalFailure' ? 'failed' : 'invalid');
      } else if ('dropped' in r) count('dropped');
      else ok++;
    }
    const publishedByType = new Map<string, number>();
    published.forEach((r, k) => {
      if (!isError(r)) publishedByType.set(sent[k].eventType, (publishedByType.get(sent[k].eventType) ?? 0) + 1);
    });
    for (const [outcome, n] of outcomes) this.metrics.events.inc({ outcome, event_type: '' }, n);
    for (const [eventType, n] of publishedByType) this.metrics.events.inc({ outcome: 'published', event_type: eventType }, n);
    if (ok > 0) this.metrics.batchEvents.observe(ok);
    const body: PutRecordsAnswer = { failedRecordCount: failed, records: results };
    // Nothing written and Kafka (or the registry) was the reason: the whole batch is worth retrying later.
    if (unavailable > 0 && ok === 0) {
      this.metrics.requests.inc({ outcome: 'unavailable' });
      return { status: 503, headers: { 'retry-after': String(this.settings.retryAfterSeconds) }, body };
    }
    this.metrics.requests.inc({ outcome: failed === 0 ? 'ok' : ok === 0 ? 'failed' : 'partial' });
    return { status: 200, headers: {}, body };
  }
}
