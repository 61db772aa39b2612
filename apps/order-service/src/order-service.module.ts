import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { KafkaTransportModule, PlatformModule } from '@app/platform';
import { ORDERS_STORE } from './orders/order-fan-in.handlers';
import { loadOrderSettings } from './orders/order-settings';
import { ORDER_COMMANDS_TOPIC, ORDER_PARTITIONS, ORDER_STATE_TOPIC } from './orders/order-topics';
import { OrdersModule } from './orders/orders.module';

/** Takes orders over HTTP, publishes them as Avro events, and decides each one (fan-in). */
@Module({})
export class OrderServiceModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const settings = loadOrderSettings(env);
    return {
      module: OrderServiceModule,
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
          stores: [ORDERS_STORE],
          internalTopics: [
            { name: ORDER_COMMANDS_TOPIC, partitions: ORDER_PARTITIONS },
            // Compacted: the latest view per order is all a reader needs.
            { name: ORDER_STATE_TOPIC, partitions: ORDER_PARTITIONS, cleanupPolicy: 'compact', configs: { 'min.compaction.lag.ms': '0' } },
          ],
        }),
        OrdersModule.forRoot(settings),
      ],
    };
  }
}
