import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { loadPartnerSftpSettings } from '@app/ingest';
import type { Logger } from '@app/logging';
import { PlatformModule } from '@app/platform';
import { PARTNER_SFTP_SETTINGS, PartnerDropService } from './drop/partner-drop.service';

/** The partner SFTP drop (PARTNER_SFTP_PORT) beside the usual /health, /health/ready and /metrics. */
@Module({})
export class PartnerSftpModule {
  static forRoot(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    // Throws ConfigError naming each bad variable: bootstrapService exits 78.
    const settings = loadPartnerSftpSettings(env, config.objectStore.bucket);
    return {
      module: PartnerSftpModule,
      imports: [PlatformModule.forRoot(config, logger)],
      providers: [{ provide: PARTNER_SFTP_SETTINGS, useValue: settings }, PartnerDropService],
    };
  }
}
