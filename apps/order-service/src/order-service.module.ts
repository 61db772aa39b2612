import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';

/** Takes orders over HTTP and publishes them as Avro domain events. */
@Module({})
export class OrderServiceModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return { module: OrderServiceModule, imports: [PlatformModule.forRoot(config, logger)] };
  }
}
