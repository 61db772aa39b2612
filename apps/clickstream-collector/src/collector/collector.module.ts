import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY } from '@app/platform';
import { ClickstreamIngest } from './clickstream-ingest';
import { ClickstreamPublisher } from './clickstream-publisher';
import { CollectorMetrics } from './collector-metrics';
import type { CollectorSettings } from './collector-settings';
import { COLLECTOR_SETTINGS } from './collector-tokens';
import { EventsController } from './events.controller';

class PublisherLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ClickstreamPublisher) private readonly publisher: ClickstreamPublisher) {}
  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}

/** Batches of clickstream events over HTTP, checked, filtered and published to Kafka. */
@Module({})
export class CollectorModule {
  static forRoot(settings: CollectorSettings): DynamicModule {
    return {
      module: CollectorModule,
      controllers: [EventsController],
      providers: [
        { provide: COLLECTOR_SETTINGS, useValue: settings },
        {
          provide: ClickstreamPublisher,
          inject: [APP_CONFIG, KAFKA, LOGGER],
          useFactory: (config: AppConfig, kafka: Kafka, logger: Logger) =>
            new ClickstreamPublisher(kafka, new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: settings.autoRegister }), {
              topic: settings.topic,
              publishTimeoutMs: settings.publishTimeoutMs,
              logger: logger.child({ component: 'publisher' }),
            }),
        },
        { provide: CollectorMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new CollectorMetrics(registry) },
        {
          provide: ClickstreamIngest,
          inject: [ClickstreamPublisher, CollectorMetrics],
          useFactory: (publisher: ClickstreamPublisher, metrics: CollectorMetrics) => new ClickstreamIngest(settings, publisher, metrics),
        },
        PublisherLifecycle,
      ],
      exports: [ClickstreamIngest],
    };
  }
}
