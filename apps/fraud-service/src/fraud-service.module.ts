import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { KafkaTransportModule, PlatformModule } from '@app/platform';
import { FraudEventsController } from './rules/fraud-events.controller';
import { BY_CUSTOMER_TOPIC, BY_FINGERPRINT_TOPIC, BY_SESSION_TOPIC, CUSTOMERS_STORE, FINGERPRINTS_STORE, FraudHandlers, FRAUD_PARTITIONS, SESSIONS_STORE } from './rules/fraud.handlers';
import { loadFraudSettings } from './rules/fraud-settings';

/** Scores placed orders over event-time windows per customer, payment fingerprint and session. */
@Module({})
export class FraudServiceModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const settings = loadFraudSettings(env);
    return {
      module: FraudServiceModule,
      imports: [
        PlatformModule.forRoot(config, logger),
        KafkaTransportModule.forRoot({
          tuning: {
            consumer: {
              sessionTimeoutMs: settings.sessionTimeoutMs,
              // Heartbeats well inside the session so a busy but live instance is never evicted.
              heartbeatIntervalMs: Math.min(3_000, Math.floor(settings.sessionTimeoutMs / 3)),
              // One batch per task at a time anyway: let every task's batch run while others wait on the broker.
              partitionsConsumedConcurrently: 6,
            },
          },
          stores: [CUSTOMERS_STORE, FINGERPRINTS_STORE, SESSIONS_STORE],
          internalTopics: [BY_CUSTOMER_TOPIC, BY_FINGERPRINT_TOPIC, BY_SESSION_TOPIC].map((name) => ({ name, partitions: FRAUD_PARTITIONS })),
        }),
      ],
      controllers: [FraudEventsController],
      providers: [{ provide: FraudHandlers, useValue: new FraudHandlers(settings) }],
    };
  }
}
