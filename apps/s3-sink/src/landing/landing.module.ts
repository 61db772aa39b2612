import { Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { AppConfig } from '@app/config';
import { LandingSink, SinkMetrics, type LandingSettings } from '@app/lake';
import type { Logger } from '@app/logging';
import { createObjectStore, type ObjectStore } from '@app/object-store';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY } from '@app/platform';
import { LandingController } from './landing.controller';
import { LandingService } from './landing.service';
import { LAKE_STORE, LANDING_SETTINGS, LANDING_SINK } from './landing.tokens';

// The sink's own S3 retry budget: short enough that a batch waiting on an upload stays inside the
// consumer session; after it the partition pauses and backs off on its own schedule.
const SINK_STORE_OPTIONS = { maxAttempts: 4, maxDelayMs: 2_000, requestTimeoutMs: 15_000 };

/** Landing: every configured topic into hourly raw segments, exactly once, and hour closes. */
@Module({})
export class LandingModule {
  static forRoot(settings: LandingSettings): DynamicModule {
    return {
      module: LandingModule,
      controllers: [LandingController],
      providers: [
        { provide: LANDING_SETTINGS, useValue: settings },
        {
          provide: LAKE_STORE,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig): ObjectStore =>
            createObjectStore(settings.lakeUrl, config.objectStore, SINK_STORE_OPTIONS),
        },
        {
          provide: LANDING_SINK,
          inject: [APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, LAKE_STORE],
          useFactory: (config: AppConfig, kafka: Kafka, logger: Logger, registry: Registry, store: ObjectStore) =>
            new LandingSink({
              kafka,
              store,
              registry: config.schemaRegistry,
              settings,
              logger: logger.child({ component: 'landing' }),
              metrics: new SinkMetrics(registry),
              service: config.service,
              // Test hook (SINK_CRASH_AT): die like kill -9 would, with no chance to flush or commit.
              crash: () => process.kill(process.pid, 'SIGKILL'),
            }),
        },
        LandingService,
      ],
      exports: [LANDING_SETTINGS, LAKE_STORE, LANDING_SINK],
    };
  }
}
