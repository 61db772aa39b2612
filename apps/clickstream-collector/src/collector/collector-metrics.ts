import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What `/metrics` says about the collector (npm start's view reads `clickstream_events_total`). */
export class CollectorMetrics {
  /** Per event: published, invalid, dropped (filter), failed (Kafka or registry); published ones by type. */
  readonly events: Counter<'outcome' | 'event_type'>;
  /** Per request: ok, partial, failed, rejected (4xx for the whole batch), throttled (429). */
  readonly requests: Counter<'outcome'>;
  readonly inFlightBytes: Gauge;
  readonly inFlightRequests: Gauge;
  readonly publishSeconds: Histogram;
  readonly batchEvents: Histogram;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'clickstream_events_total',
      help: 'Events by outcome (published, invalid, dropped, failed) and, when published, event type',
      labelNames: ['outcome', 'event_type'],
      registers: [registry],
    });
    this.requests = new Counter({ name: 'clickstream_requests_total', help: 'Batch requests by outcome', labelNames: ['outcome'], registers: [registry] });
    this.inFlightBytes = new Gauge({ name: 'clickstream_inflight_bytes', help: 'Request bytes admitted and not yet answered', registers: [registry] });
    this.inFlightRequests = new Gauge({ name: 'clickstream_inflight_requests', help: 'Requests admitted and not yet answered', registers: [registry] });
    this.publishSeconds = new Histogram({
      name: 'clickstream_publish_seconds',
      help: 'Time from the body read to Kafka acknowledging the batch (acks=all)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.batchEvents = new Histogram({
      name: 'clickstream_batch_events',
      help: 'Events per accepted batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500],
      registers: [registry],
    });
  }
}
