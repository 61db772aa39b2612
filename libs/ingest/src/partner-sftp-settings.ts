/**
 * partner-sftp settings from the environment (zod-free checks are enough here: ports, paths, a size),
 * every bad variable named in one {@link ConfigError}. Defaults work locally: state under .local-stack/.
 */
import * as path from 'node:path';
import { ConfigError } from '@app/config';
import { parseLakeUrl } from '@app/object-store';
import { parseByteSize } from './bandwidth-limiter';

export const partnerSftpDefaults = {
  host: '127.0.0.1',
  port: 2222,
  stateDir: '.local-stack/partner-sftp',
  maxFileBytes: 100 * 1024 * 1024,
};

export interface PartnerSftpSettings {
  lakeUrl: string;
  host: string;
  port: number;
  hostKeyFile: string;
  keysDir: string;
  inlineKeys?: string;
  homesDir: string;
  maxFileBytes: number;
}

const blank = (v: string | undefined) => v === undefined || v.trim() === '';

export function loadPartnerSftpSettings(env: NodeJS.ProcessEnv, defaultBucket: string): PartnerSftpSettings {
  const problems: { variable: string; message: string }[] = [];
  const lakeUrl = blank(env.LAKE_URL) ? `s3://${defaultBucket}/` : env.LAKE_URL!.trim();
  try {
    parseLakeUrl(lakeUrl);
  } catch (err) {
    problems.push({ variable: 'LAKE_URL', message: (err as Error).message });
  }
  const port = blank(env.PARTNER_SFTP_PORT) ? partnerSftpDefaults.port : Number(env.PARTNER_SFTP_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push({ variable: 'PARTNER_SFTP_PORT', message: 'expected a port number 0-65535' });
  const maxFileBytes = blank(env.PARTNER_SFTP_MAX_FILE_SIZE) ? partnerSftpDefaults.maxFileBytes : parseByteSize(env.PARTNER_SFTP_MAX_FILE_SIZE!);
  if (maxFileBytes === undefined) problems.push({ variable: 'PARTNER_SFTP_MAX_FILE_SIZE', message: 'expected a size such as 100MiB' });
  const stateDir = path.resolve(partnerSftpDefaults.stateDir);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    lakeUrl,
    host: blank(env.PARTNER_SFTP_HOST) ? partnerSftpDefaults.host : env.PARTNER_SFTP_HOST!.trim(),
    port,
    hostKeyFile: blank(env.PARTNER_SFTP_HOST_KEY) ? path.join(stateDir, 'ssh_host_ed25519_key') : path.resolve(env.PARTNER_SFTP_HOST_KEY!),
    keysDir: blank(env.PARTNER_SFTP_KEYS_DIR) ? path.join(stateDir, 'partner-keys') : path.resolve(env.PARTNER_SFTP_KEYS_DIR!),
    inlineKeys: env.PARTNER_SFTP_PARTNER_KEYS || undefined,
    homesDir: blank(env.PARTNER_SFTP_HOMES_DIR) ? path.join(stateDir, 'homes') : path.resolve(env.PARTNER_SFTP_HOMES_DIR!),
    maxFileBytes: maxFileBytes!,
  };
}
