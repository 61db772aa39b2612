import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { AppConfig } from '@app/config';
import { CompactionWorker, ensureHourCloseTopic, type CompactionSettings } from '@app/lake';
import type { Logger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, startInBackground } from '@app/platform';

export const COMPACTION_OPTIONS = Symbol('COMPACTION_OPTIONS');

export interface CompactionModuleOptions {
  lakeUrl: string;
  /** The sink's consumer group; compaction uses `<group>.compaction`. */
  groupId: string;
  eventTimeFields: Record<string, string>;
  ownsTopic: (topic: string) => boolean;
  /** The sink's consumer session (`SINK_SESSION_TIMEOUT`). */
  sessionTimeoutMs?: number;
  settings: CompactionSettings;
}

/** Starts the compaction worker with the app and stops it (leaving the group) on shutdown. */
@Injectable()
export class HourCloseConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: CompactionWorker;
  private readonly logger: Logger;
  private stopping = false;

  constructor(
    @Inject(COMPACTION_OPTIONS) options: CompactionModuleOptions,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS_REGISTRY) metrics: Registry,
  ) {
    this.logger = logger;
    this.worker = new CompactionWorker({
      kafka,
      groupId: `${options.groupId}.compaction`,
      ownsTopic: options.ownsTopic,
      sessionTimeoutMs: options.sessionTimeoutMs,
      logger: logger.child({ component: 'compaction' }),
      metrics,
      ensureTopic: async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          await ensureHourCloseTopic(admin);
        } finally {
          await admin.disconnect();
        }
      },
      job: {
        store: createObjectStore(options.lakeUrl, config.objectStore),
        registry: config.schemaRegistry,
        settings: options.settings,
        eventTimeFields: options.eventTimeFields,
      },
    });
  }

  // In the background, retried while the broker is unreachable: the HTTP port must open regardless.
  onApplicationBootstrap(): void {
    void startInBackground('compaction worker', () => this.worker.start(), this.logger, () => this.stopping);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.worker.stop();
  }
}
