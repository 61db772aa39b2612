import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import type { AppConfig } from '@app/config';
import { ensureHostKey, KafkaPartnerFileAnnouncer, loadPartnerKeys, PartnerSftpServer, type PartnerSftpSettings } from '@app/ingest';
import type { Logger } from '@app/logging';
import { createObjectStore } from '@app/object-store';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY } from '@app/platform';

export const PARTNER_SFTP_SETTINGS = Symbol('PARTNER_SFTP_SETTINGS');

/** Runs the SFTP server for the app's lifetime; the host key is generated on first start. */
@Injectable()
export class PartnerDropService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: PartnerSftpServer;
  private readonly announcer: KafkaPartnerFileAnnouncer;

  constructor(
    @Inject(PARTNER_SFTP_SETTINGS) private readonly settings: PartnerSftpSettings,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    // Schemas are registered by `npm run schemas:register`, not by the service (like every producer).
    this.announcer = new KafkaPartnerFileAnnouncer(kafka, new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: false }));
    const stored = new Counter({ name: 'partner_sftp_files_stored_total', help: 'Uploads stored in the lake and announced', labelNames: ['partner'], registers: [registry] });
    const storedBytes = new Counter({ name: 'partner_sftp_stored_bytes_total', help: 'Bytes of stored uploads', labelNames: ['partner'], registers: [registry] });
    const refused = new Counter({ name: 'partner_sftp_refusals_total', help: 'Refused logins and requests by reason', labelNames: ['reason'], registers: [registry] });
    const log = logger.child({ component: 'sftp' });
    this.server = new PartnerSftpServer({
      host: settings.host,
      port: settings.port,
      hostKey: ensureHostKey(settings.hostKeyFile),
      partnerKeys: () => loadPartnerKeys(settings.keysDir, settings.inlineKeys),
      homesDir: settings.homesDir,
      maxFileBytes: settings.maxFileBytes,
      store: createObjectStore(settings.lakeUrl, config.objectStore),
      announce: async (file) => {
        await this.announcer.announce(file);
        stored.inc({ partner: file.partner });
        storedBytes.inc({ partner: file.partner }, file.sizeBytes);
      },
      log: {
        info: (message, fields) => log.info(message, fields),
        warn: (message, fields) => {
          if (message === 'sftp refused') refused.inc({ reason: String(fields?.reason ?? 'unknown') });
          log.warn(message, fields);
        },
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = await this.server.start();
    const partners = [...loadPartnerKeys(this.settings.keysDir, this.settings.inlineKeys).keys()];
    this.logger.info('partner SFTP drop listening', { host: this.settings.host, port, partners, keysDir: this.settings.keysDir, hostKey: `${this.settings.hostKeyFile}.pub` });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.stop();
    await this.announcer.close();
  }
}
