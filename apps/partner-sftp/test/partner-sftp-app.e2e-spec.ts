/**
 * The partner-sftp app boots with its SFTP listener, generates its host key on first start (and keeps
 * it on the next), and serves /health and the drop's metrics.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '@app/config';
import { createLogger } from '@app/logging';
import { PartnerSftpModule } from '../src/partner-sftp.module';

const work = mkdtempSync(join(tmpdir(), 'partner-sftp-app-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('starts, creates the host key once, and answers /health and /metrics', async () => {
  const config = loadConfig(process.env, { service: 'partner-sftp', defaultHttpPort: 0 });
  const env = { PARTNER_SFTP_PORT: '0', PARTNER_SFTP_HOST_KEY: join(work, 'host_key'), PARTNER_SFTP_KEYS_DIR: join(work, 'keys'), PARTNER_SFTP_HOMES_DIR: join(work, 'homes') };
  const boot = async () => {
    const app = await NestFactory.create(PartnerSftpModule.forRoot(config, createLogger({ service: 'partner-sftp-test' }, 'warn'), env), { logger: false });
    await app.listen(0, '127.0.0.1');
    return app;
  };
  const first = await boot();
  let hostKey: string;
  try {
    expect(existsSync(join(work, 'host_key.pub'))).toBe(true);
    hostKey = readFileSync(join(work, 'host_key'), 'utf8');
    const url = (await first.getUrl()).replace('[::1]', '127.0.0.1');
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('# TYPE partner_sftp_refusals_total counter');
  } finally {
    await first.close();
  }
  const second = await boot();
  await second.close();
  expect(readFileSync(join(work, 'host_key'), 'utf8')).toBe(hostKey);
});

it('refuses to boot on a bad variable, naming it (bootstrapService exits 78 on a ConfigError)', () => {
  const config = loadConfig(process.env, { service: 'partner-sftp', defaultHttpPort: 0 });
  const logger = createLogger({ service: 'partner-sftp-test' }, 'warn');
  expect(() => PartnerSftpModule.forRoot(config, logger, { PARTNER_SFTP_PORT: '2222x', PARTNER_SFTP_MAX_FILE_SIZE: 'big' })).toThrow(
    new ConfigError([
      { variable: 'PARTNER_SFTP_PORT', message: 'expected an integer from 0 to 65535' },
      { variable: 'PARTNER_SFTP_MAX_FILE_SIZE', message: 'expected a size such as 64MiB or 1048576 (at least 1 byte)' },
    ]),
  );
});
