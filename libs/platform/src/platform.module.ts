import { Global, Module, type DynamicModule, type OnApplicationShutdown, Inject } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { S3Client } from '@aws-sdk/client-s3';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AppConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import type { Logger } from '@app/logging';
import { createS3Client } from '@app/object-store';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, S3 } from './tokens';

class S3Lifecycle implements OnApplicationShutdown {
  constructor(@Inject(S3) private readonly s3: S3Client) {}
  onApplicationShutdown(): void {
    this.s3.destroy();
  }
}

/**
 * Wires the framework-free clients (config, logger, Kafka, S3, metrics) into Nest once per process,
 * and serves `/health`, `/health/ready` and `/metrics`.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const metrics = new Registry();
    metrics.setDefaultLabels({ service: config.service });
    collectDefaultMetrics({ register: metrics });
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS_REGISTRY, useValue: metrics },
        { provide: KAFKA, useFactory: (): Kafka => createKafkaClient(config.kafka, logger.child({ component: 'kafka' })) },
        { provide: S3, useFactory: (): S3Client => createS3Client(config.objectStore) },
        S3Lifecycle,
      ],
      exports: [APP_CONFIG, LOGGER, METRICS_REGISTRY, KAFKA, S3],
    };
  }
}
