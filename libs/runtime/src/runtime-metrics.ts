import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The runtime's Prometheus series, registered once per registry (several runtimes in one process,
 * as in tests, share them; the service name is the registry's default label).
 */
export class RuntimeMetrics {
  readonly recordsIn: Counter<'topic'>;
  readonly recordsOut: Counter<'topic'>;
  readonly recordsDeadLettered: Counter<'topic' | 'error'>;
  readonly handlerSeconds: Histogram<'topic'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly transactions: Counter<'result'>;
  readonly retries: Counter<'topic'>;
  readonly transactionSeconds: Histogram<string>;

  constructor(registry: Registry) {
    const once = <M>(name: string, create: () => M): M => (registry.getSingleMetric(name) as M | undefined) ?? create();
    const registers = [registry];
    this.recordsIn = once('kafka_runtime_records_in_total', () =>
      new Counter({ name: 'kafka_runtime_records_in_total', help: 'Input records handled (committed), by topic', labelNames: ['topic'], registers }),
    );
    this.recordsOut = once('kafka_runtime_records_out_total', () =>
      new Counter({ name: 'kafka_runtime_records_out_total', help: 'Output records committed, by topic', labelNames: ['topic'], registers }),
    );
    this.recordsDeadLettered = once('kafka_runtime_records_dlq_total', () =>
      new Counter({
        name: 'kafka_runtime_records_dlq_total',
        help: 'Input records sent to their DLQ, by source topic and error class',
        labelNames: ['topic', 'error'],
        registers,
      }),
    );
    this.handlerSeconds = once('kafka_runtime_handler_duration_seconds', () =>
      new Histogram({
        name: 'kafka_runtime_handler_duration_seconds',
        help: 'Time in the handler per input record',
        labelNames: ['topic'],
        buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers,
      }),
    );
    this.consumerLag = once('kafka_runtime_consumer_lag', () =>
      new Gauge({
        name: 'kafka_runtime_consumer_lag',
        help: 'Records between the committed position and the high watermark, per input partition',
        labelNames: ['topic', 'partition'],
        registers,
      }),
    );
    this.transactions = once('kafka_runtime_transactions_total', () =>
      new Counter({ name: 'kafka_runtime_transactions_total', help: 'Kafka transactions by result (commit, abort)', labelNames: ['result'], registers }),
    );
    this.transactionSeconds = once('kafka_runtime_transaction_duration_seconds', () =>
      new Histogram({
        name: 'kafka_runtime_transaction_duration_seconds',
        help: 'From beginning a transaction to its commit (sends, offsets, EndTxn): the per-batch price of exactly-once',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
    );
    this.retries = once('kafka_runtime_batch_retries_total', () =>
      new Counter({ name: 'kafka_runtime_batch_retries_total', help: 'Batches aborted for a retriable failure and backed off', labelNames: ['topic'], registers }),
    );
  }
}
