import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { allTopics } from '@app/contracts';
import { loadLandingSettings } from '@app/lake';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';
import { CompactionModule } from './compaction/compaction.module';
import { LandingModule } from './landing/landing.module';

/** Lands every topic in S3 in hourly partitions, exactly once. */
@Module({})
export class S3SinkModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    // Throws ConfigError naming each bad variable: bootstrapService exits 78.
    const landing = loadLandingSettings(env, {
      defaultLakeUrl: `s3://${config.objectStore.bucket}/`,
      catalogTopics: allTopics.map((t) => t.name),
    });
    return {
      module: S3SinkModule,
      imports: [
        PlatformModule.forRoot(config, logger),
        LandingModule.forRoot(landing),
        CompactionModule.forRoot({
          lakeUrl: landing.lakeUrl,
          groupId: landing.groupId,
          eventTimeFields: landing.eventTimeFields,
          sessionTimeoutMs: landing.sessionTimeoutMs,
          ownsTopic: (topic) => ('names' in landing.topics ? landing.topics.names.includes(topic) : landing.topics.pattern.test(topic)),
        }, env),
      ],
    };
  }
}
