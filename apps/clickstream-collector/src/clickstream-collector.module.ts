import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';
import { CollectorModule } from './collector/collector.module';
import { loadCollectorSettings } from './collector/collector-settings';
import { ShopModule } from './shop/shop.module';

/** Takes clickstream batches over HTTP and publishes them to Kafka; serves the demo shop that sends them. */
@Module({})
export class ClickstreamCollectorModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const settings = loadCollectorSettings(env);
    logger.info('clickstream settings', {
      topic: settings.topic,
      maxBatchEvents: settings.maxBatchEvents,
      maxBatchBytes: settings.maxBatchBytes,
      maxInFlightBytes: settings.maxInFlightBytes,
      maxInFlightRequests: settings.maxInFlightRequests,
      dropBots: settings.filter.dropBots,
      dropFields: settings.filter.dropFields,
      hashFields: settings.filter.hashFields,
    });
    return {
      module: ClickstreamCollectorModule,
      imports: [PlatformModule.forRoot(config, logger), CollectorModule.forRoot(settings), ShopModule],
    };
  }
}
