import { Counter, Gauge, type Registry } from 'prom-client';

/** The landing side's Prometheus metrics (served on the sink's /metrics). */
export class SinkMetrics {
  readonly recordsLanded: Counter<'topic'>;
  readonly bytesLanded: Counter<'topic'>;
  readonly uploads: Counter<'topic' | 'outcome'>;
  readonly cuts: Counter<'topic' | 'reason'>;
  readonly dlq: Counter<'topic' | 'code'>;
  readonly replaysRefused: Counter<'topic' | 'partition'>;
  readonly openFiles: Gauge;
  readonly bufferedBytes: Gauge;
  readonly writerState: Gauge<'topic' | 'partition' | 'state'>;
  readonly writerTransitions: Counter<'from' | 'to'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly hoursClosed: Counter<'topic' | 'reason'>;
  readonly lowWatermark: Gauge<'topic'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsLanded = new Counter({ name: 'sink_records_landed_total', help: 'Records in uploaded raw segments (committed)', labelNames: ['topic'], registers });
    this.bytesLanded = new Counter({ name: 'sink_bytes_landed_total', help: 'Bytes of uploaded raw segments', labelNames: ['topic'], registers });
    this.uploads = new Counter({ name: 'sink_uploads_total', help: 'Raw segment uploads by outcome (ok, exists = identical replay, failed)', labelNames: ['topic', 'outcome'], registers });
    this.cuts = new Counter({ name: 'sink_cuts_total', help: 'Partition windows flushed and committed, by trigger', labelNames: ['topic', 'reason'], registers });
    this.dlq = new Counter({ name: 'sink_dlq_records_total', help: 'Records sent to <topic>.dlq', labelNames: ['topic', 'code'], registers });
    this.replaysRefused = new Counter({
      name: 'sink_replays_refused_total',
      help: 'Replayed windows not uploaded because their file keys differ from their cut marker (the partition backs off until an operator acts)',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.openFiles = new Gauge({ name: 'sink_open_files', help: 'Raw segments open in memory', registers });
    this.bufferedBytes = new Gauge({ name: 'sink_buffered_bytes', help: 'Bytes held by open raw segments', registers });
    this.writerState = new Gauge({ name: 'sink_writer_state', help: '1 for the current state of each topic-partition writer', labelNames: ['topic', 'partition', 'state'], registers });
    this.writerTransitions = new Counter({ name: 'sink_writer_transitions_total', help: 'Writer state transitions', labelNames: ['from', 'to'], registers });
    this.lag = new Gauge({ name: 'sink_consumer_lag_records', help: 'Records behind the high watermark after the last batch', labelNames: ['topic', 'partition'], registers });
    this.hoursClosed = new Counter({ name: 'sink_hours_closed_total', help: 'Hour manifests written, by reason', labelNames: ['topic', 'reason'], registers });
    this.lowWatermark = new Gauge({ name: 'sink_low_watermark_seconds', help: 'Low event-time watermark per topic (epoch seconds)', labelNames: ['topic'], registers });
  }
}
