import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { KafkaTransportModule, PlatformModule } from '@app/platform';
import { InventoryEventsController } from './reservations/inventory-events.controller';
import { InventoryHandlers, RESERVATIONS_STORE, SKUS_STORE } from './reservations/inventory.handlers';
import { loadInventorySettings } from './reservations/inventory-settings';
import { INVENTORY_PARTITIONS, SKU_REPLIES_TOPIC, SKU_REQUESTS_TOPIC } from './reservations/inventory-topics';
import { INVENTORY_SETTINGS } from './stock/inventory-tokens';
import { StockCommandsPublisher } from './stock/stock-commands.publisher';
import { StockController } from './stock/stock.controller';
import { StockLevelView } from './stock/stock-level.view';

/** Reserves stock for placed orders (all lines or none), releases it when orders end, keeps stock levels. */
@Module({})
export class InventoryServiceModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const settings = loadInventorySettings(env);
    return {
      module: InventoryServiceModule,
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
          stores: [RESERVATIONS_STORE, SKUS_STORE],
          internalTopics: [
            { name: SKU_REQUESTS_TOPIC, partitions: INVENTORY_PARTITIONS },
            { name: SKU_REPLIES_TOPIC, partitions: INVENTORY_PARTITIONS },
          ],
        }),
      ],
      controllers: [StockController, InventoryEventsController],
      providers: [
        { provide: INVENTORY_SETTINGS, useValue: settings },
        { provide: InventoryHandlers, useValue: new InventoryHandlers(settings) },
        StockCommandsPublisher,
        StockLevelView,
      ],
    };
  }
}
