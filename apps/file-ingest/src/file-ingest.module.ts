import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { loadIngestSettings } from '@app/ingest';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';
import { SourcesController } from './sync/sources.controller';
import { FILE_INGEST_SETTINGS, FileIngestScheduler } from './sync/file-ingest.scheduler';

/** Syncs the configured sources (FILE_INGEST_SOURCES) on their cron schedules; runs on demand over HTTP. */
@Module({})
export class FileIngestModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    // Throws ConfigError naming each bad variable: bootstrapService exits 78.
    const settings = loadIngestSettings(env, config.objectStore.bucket);
    logger.info('file-ingest sources', { lake: settings.lakeUrl, sources: settings.sources.map((s) => ({ name: s.name, from: s.from, schedule: s.schedule ?? 'on demand' })) });
    return {
      module: FileIngestModule,
      imports: [PlatformModule.forRoot(config, logger)],
      controllers: [SourcesController],
      providers: [{ provide: FILE_INGEST_SETTINGS, useValue: settings }, FileIngestScheduler],
    };
  }
}
