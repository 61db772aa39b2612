import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Kafka } from 'kafkajs';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { registryAuthHeaders } from '@app/codec';
import type { AppConfig } from '@app/config';
import { APP_CONFIG, KAFKA, S3 } from './tokens';

type Check = { ok: boolean; error?: string };

async function check(run: () => Promise<unknown>): Promise<Check> {
  try {
    await run();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** `/health` says the process is up; `/health/ready` that its broker, registry and bucket answer. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(S3) private readonly s3: S3Client,
  ) {}

  @Get()
  live() {
    return { status: 'ok', service: this.config.service };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const [kafka, registry, objectStore] = await Promise.all([
      check(async () => {
        // No retries: readiness answers now (in about a second during an outage), the probe polls again.
        const admin = this.kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
        try {
          await admin.describeCluster();
        } finally {
          await admin.disconnect();
        }
      }),
      check(async () => {
        const r = await fetch(`${this.config.schemaRegistry.url}/subjects`, {
          headers: registryAuthHeaders(this.config.schemaRegistry),
          signal: AbortSignal.timeout(3000),
        });
        if (!r.ok) throw new Error(`registry answered ${r.status}`);
      }),
      check(() => this.s3.send(new HeadBucketCommand({ Bucket: this.config.objectStore.bucket }))),
    ]);
    const ok = kafka.ok && registry.ok && objectStore.ok;
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not-ready', service: this.config.service, checks: { kafka, registry, objectStore } };
  }
}
