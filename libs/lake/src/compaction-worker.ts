/**
 * Consumes hour-close requests (`s3-sink.hour-close`, keyed `<topic>/<hour>`) and compacts each hour.
 * The topic's partitions spread over the sink instances of the group, so different hours compact on
 * different machines. A request's offset is committed only after its curated manifest is written;
 * a crash before that replays the request, and re-compaction of unchanged inputs does nothing.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '@app/logging';
import { runCompaction, type CompactionJob } from './compaction-job';
import { HOUR_CLOSE_TOPIC, hourStartMillis, type HourCloseRequest } from './manifest';

export interface CompactionWorkerOptions {
  kafka: Kafka;
  /** `<sink group>.compaction`: an extra group of the sink (its data consumer has other topics). */
  groupId: string;
  job: CompactionJob;
  /** Only hours of topics this sink lands are compacted here; other requests are committed and skipped. */
  ownsTopic: (topic: string) => boolean;
  logger: Logger;
  metrics?: Registry;
  /** Creates the request topic when missing (the landing side's `ensureHourCloseTopic`). */
  ensureTopic?: () => Promise<void>;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts for a failure that is not retriable (bad manifest, unknown schema) before it is skipped. */
  maxAttempts?: number;
  /**
   * Consumer session; heartbeats go out every 3 s even while an hour compacts. Short sessions (tests
   * that kill -9) let a restarted instance take the requests over quickly.
   */
  sessionTimeoutMs?: number;
  /** Tests: `fromBeginning` for a new group (default true: a new group handles every pending request). */
  fromBeginning?: boolean;
}

const HEARTBEAT_MS = 3_000;

export class CompactionWorker {
  private consumer?: Consumer;
  private stopping = false;
  private wakeUp?: () => void;
  private readonly compactions?: Counter<'status'>;
  private readonly duration?: Histogram<'status'>;
  private readonly rowsWritten?: Counter;

  constructor(private readonly options: CompactionWorkerOptions) {
    const registers = options.metrics ? [options.metrics] : [];
    if (options.metrics) {
      this.compactions = new Counter({
        name: 'lake_compactions_total',
        help: 'Hour-close requests handled, by outcome (compacted, unchanged, skipped, failed)',
        labelNames: ['status'],
        registers,
      });
      this.duration = new Histogram({
        name: 'lake_compaction_seconds',
        help: 'Time to compact one hour',
        labelNames: ['status'],
        buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
        registers,
      });
      this.rowsWritten = new Counter({ name: 'lake_compaction_rows_total', help: 'Rows written to curated Parquet', registers });
    }
  }

  async start(): Promise<void> {
    const { kafka, groupId, logger } = this.options;
    await this.options.ensureTopic?.();
    // Compacting one hour can take minutes: the worker heartbeats on a timer while it runs.
    const sessionTimeout = Math.max(6_000, this.options.sessionTimeoutMs ?? 45_000);
    const consumer = kafka.consumer({ groupId, sessionTimeout, heartbeatInterval: Math.min(HEARTBEAT_MS, sessionTimeout / 3), maxBytesPerPartition: 1024 * 1024 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: HOUR_CLOSE_TOPIC, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      // Batches, so that requests for other sinks' topics (a new group reads the topic from the start)
      // cost one commit per batch, not one per record.
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const { topic, partition } = batch;
        let next: string | undefined;
        const commit = async () => {
          if (next !== undefined) await consumer.commitOffsets([{ topic, partition, offset: next }]);
          next = undefined;
        };
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || this.stopping) break;
          const request = this.parse(message.value);
          const owned = request !== undefined && this.options.ownsTopic(request.topic);
          if (owned) await this.handle(request, heartbeat);
          if (this.stopping) break; // not handled to the end: the next owner replays it
          resolveOffset(message.offset);
          next = (BigInt(message.offset) + 1n).toString();
          if (owned) await commit();
        }
        await commit();
      },
    });
    logger.info('compaction worker started', { groupId, topic: HOUR_CLOSE_TOPIC });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.consumer?.disconnect();
  }

  private parse(value: Buffer | null): HourCloseRequest | undefined {
    try {
      const request = JSON.parse(value?.toString('utf8') ?? '') as HourCloseRequest;
      hourStartMillis(request.hour);
      if (typeof request.topic !== 'string') throw new Error('no topic');
      return request;
    } catch (err) {
      this.options.logger.error('skipping a malformed hour-close request', { error: (err as Error).message });
      this.compactions?.inc({ status: 'skipped' });
      return undefined;
    }
  }

  private async handle(request: HourCloseRequest, heartbeat: () => Promise<void>): Promise<void> {
    const { logger } = this.options;
    const base = this.options.backoffBaseMs ?? 500;
    const max = this.options.backoffMaxMs ?? 15_000;
    const maxAttempts = this.options.maxAttempts ?? 3;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
    try {
      for (let attempt = 0; !this.stopping; attempt++) {
        const started = performance.now();
        try {
          const result = await runCompaction(this.options.job, request.topic, request.hour);
          const seconds = (performance.now() - started) / 1000;
          this.compactions?.inc({ status: result.status });
          this.duration?.observe({ status: result.status }, seconds);
          if (result.status === 'compacted') this.rowsWritten?.inc(result.manifest.rows);
          logger.info(`hour ${result.status}`, {
            topic: request.topic,
            hour: request.hour,
            rows: result.manifest.rows,
            files: result.manifest.files.length,
            duplicatesDropped: result.manifest.duplicatesDropped,
            compactionId: result.manifest.compactionId,
            expiredRawSegments: result.expiredRawSegments,
            seconds: Number(seconds.toFixed(3)),
          });
          return;
        } catch (err) {
          const e = err as Error & { retriable?: boolean };
          if (!e.retriable && attempt + 1 >= maxAttempts) {
            this.compactions?.inc({ status: 'failed' });
            logger.error('compaction failed; request skipped (run npm run lake:compact for this hour once the cause is fixed)', {
              topic: request.topic,
              hour: request.hour,
              error: e.message,
              errorClass: e.name,
            });
            return;
          }
          const delay = Math.floor(Math.random() * Math.min(max, base * 2 ** attempt));
          logger.warn('compaction failed; retrying', { topic: request.topic, hour: request.hour, error: e.message, retriable: Boolean(e.retriable), delayMs: delay });
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.wakeUp = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    } finally {
      clearInterval(beat);
    }
  }
}
