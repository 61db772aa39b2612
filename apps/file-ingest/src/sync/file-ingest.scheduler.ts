import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppConfig } from '@app/config';
import { formatRunReport, KafkaStockCountSink, nextRunAfter, openFileSource, syncSource, type FileRunReport, type IngestSettings, type SourceDefinition } from '@app/ingest';
import type { Logger } from '@app/logging';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY } from '@app/platform';

export const FILE_INGEST_SETTINGS = Symbol('FILE_INGEST_SETTINGS');

export interface SourceStatus {
  name: string;
  from: string;
  schedule?: string;
  nextRunAt?: string;
  running: boolean;
  lastReport?: Omit<FileRunReport, 'files'> & { failedFiles: string[] };
  lastError?: string;
}

/**
 * One timer per scheduled source (cron, UTC). A source never runs twice at once: a tick that finds the
 * previous run still going is skipped and logged. Each run's report is logged, kept for `GET /sources`,
 * and counted in the metrics.
 */
@Injectable()
export class FileIngestScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly store: ObjectStore;
  private readonly stockCounts: KafkaStockCountSink;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly status = new Map<string, SourceStatus>();
  private readonly running = new Map<string, Promise<FileRunReport>>();
  private stopped = false;
  private readonly files: Counter<'source' | 'outcome'>;
  private readonly bytes: Counter<'source'>;
  private readonly malformedRows: Counter<'source'>;
  private readonly lastRun: Gauge<'source'>;

  constructor(
    @Inject(FILE_INGEST_SETTINGS) private readonly settings: IngestSettings,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.store = createObjectStore(settings.lakeUrl, config.objectStore);
    this.stockCounts = new KafkaStockCountSink(kafka, settings.stockCountTopic);
    this.files = new Counter({ name: 'file_ingest_files_total', help: 'Files per run outcome (copied, skipped, failed)', labelNames: ['source', 'outcome'], registers: [registry] });
    this.bytes = new Counter({ name: 'file_ingest_bytes_total', help: 'Bytes uploaded to the lake', labelNames: ['source'], registers: [registry] });
    this.malformedRows = new Counter({ name: 'file_ingest_malformed_rows_total', help: 'Inventory CSV rows that were not stock counts', labelNames: ['source'], registers: [registry] });
    this.lastRun = new Gauge({ name: 'file_ingest_last_run_timestamp_seconds', help: 'End of the last finished run', labelNames: ['source'], registers: [registry] });
    for (const s of settings.sources) this.status.set(s.name, { name: s.name, from: s.from, schedule: s.schedule, running: false });
  }

  onApplicationBootstrap(): void {
    for (const source of this.settings.sources) if (source.schedule) this.scheduleNext(source);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    // A run cut short resumes from its saved state next time; waiting keeps the lake state tidy.
    await Promise.allSettled(this.running.values());
    await this.stockCounts.close();
  }

  sources(): SourceStatus[] {
    return [...this.status.values()];
  }

  /** Starts a run now (or joins the one in progress) and resolves with its report. */
  run(name: string): Promise<FileRunReport> | undefined {
    const source = this.settings.sources.find((s) => s.name === name);
    if (!source) return undefined;
    const current = this.running.get(name);
    if (current) return current;
    const status = this.status.get(name)!;
    status.running = true;
    const files = openFileSource(source.from, { privateKeyFile: source.privateKeyFile, password: this.settings.sftpPassword, hostKeySha256: source.hostKeySha256 });
    const log = this.logger.child({ source: name });
    const run = syncSource(source, {
      store: this.store,
      source: files,
      stockCounts: this.stockCounts,
      options: { concurrency: this.settings.concurrency, partSizeBytes: this.settings.partSizeBytes },
      log: (message, fields) => log.info(message, fields),
    })
      .then((report) => {
        this.files.inc({ source: name, outcome: 'copied' }, report.copied);
        this.files.inc({ source: name, outcome: 'skipped' }, report.skipped);
        this.files.inc({ source: name, outcome: 'failed' }, report.failed);
        this.bytes.inc({ source: name }, report.bytes);
        this.malformedRows.inc({ source: name }, report.stockCounts.malformed.length);
        this.lastRun.set({ source: name }, Date.now() / 1000);
        const { files: entries, ...summary } = report;
        status.lastReport = { ...summary, failedFiles: entries.filter((f) => f.status === 'failed').map((f) => f.path) };
        status.lastError = undefined;
        log.info('run report', { report: formatRunReport(report) });
        return report;
      })
      .catch((err: unknown) => {
        status.lastError = (err as Error)?.message ?? String(err);
        log.error('run failed', { error: status.lastError });
        throw err;
      })
      .finally(() => {
        status.running = false;
        this.running.delete(name);
        void files.close();
      });
    this.running.set(name, run);
    return run;
  }

  private scheduleNext(source: SourceDefinition): void {
    if (this.stopped) return;
    const at = nextRunAfter(source.schedule!, new Date());
    this.status.get(source.name)!.nextRunAt = at.toISOString();
    // setTimeout holds at most ~24.8 days; a longer wait re-arms on the way.
    const delay = Math.min(Math.max(0, at.getTime() - Date.now()), 2 ** 31 - 1);
    this.timers.set(
      source.name,
      setTimeout(() => {
        if (this.running.has(source.name)) this.logger.warn('previous run still going: tick skipped', { source: source.name });
        else if (at.getTime() <= Date.now()) this.run(source.name)?.catch(() => undefined);
        this.scheduleNext(source);
      }, delay),
    );
  }
}
