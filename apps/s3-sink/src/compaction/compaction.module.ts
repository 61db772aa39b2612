import { Module, type DynamicModule } from '@nestjs/common';
import { loadCompactionSettings } from '@app/lake';
import { HourCloseConsumer, COMPACTION_OPTIONS, type CompactionModuleOptions } from './hour-close.consumer';

/**
 * Compaction inside the sink: consumes hour-close requests and compacts the hours to curated Parquet.
 * Settings (`LAKE_COMPACT_TARGET_BYTES`, `LAKE_RAW_RETENTION`) are validated here, at boot.
 */
@Module({})
export class CompactionModule {
  static forRoot(options: Omit<CompactionModuleOptions, 'settings'>, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const settings = loadCompactionSettings(env);
    return {
      module: CompactionModule,
      providers: [{ provide: COMPACTION_OPTIONS, useValue: { ...options, settings } }, HourCloseConsumer],
    };
  }
}
