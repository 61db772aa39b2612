import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';

/** Reserves stock for placed orders and publishes the verdict. */
@Module({})
export class InventoryServiceModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return { module: InventoryServiceModule, imports: [PlatformModule.forRoot(config, logger)] };
  }
}
