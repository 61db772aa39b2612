import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';

/** Lands every topic in S3 in hourly partitions, exactly once. */
@Module({})
export class S3SinkModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return { module: S3SinkModule, imports: [PlatformModule.forRoot(config, logger)] };
  }
}
