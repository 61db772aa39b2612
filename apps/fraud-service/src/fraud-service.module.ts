import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';

/** Scores placed orders for fraud risk and publishes the assessment. */
@Module({})
export class FraudServiceModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return { module: FraudServiceModule, imports: [PlatformModule.forRoot(config, logger)] };
  }
}
