/**
 * partner-sftp settings from the environment, validated once with zod at boot: every variable is parsed
 * and checked, and every bad one is named in one {@link ConfigError} (bootstrapService exits 78).
 * Defaults work locally: state under .local-stack/partner-sftp/ (relative to the working directory).
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { utils } from 'ssh2';
import { z } from 'zod';
import { configErrorFrom, envByteSize, envInteger, isBlank } from '@app/config';
import { parseLakeUrl } from '@app/object-store';
import { PARTNER_NAME } from './partner-sftp-server';

export const partnerSftpDefaults = {
  host: '127.0.0.1',
  port: 2222,
  stateDir: '.local-stack/partner-sftp',
  /** A policy limit, not a memory one: uploads are streamed to the lake part by part. */
  maxFileBytes: 5 * 1024 * 1024 * 1024,
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

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A listen address: an IPv4/IPv6 address (`0.0.0.0`, `::` for all) or a host name. */
const listenHost = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (isBlank(v)) return partnerSftpDefaults.host;
    const host = v.trim();
    if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      ctx.addIssue({ code: 'custom', message: `expected an IP address or host name to listen on, got ${JSON.stringify(host)}` });
      return z.NEVER;
    }
    return host;
  });

/** Kind of what is at `file`, or undefined when nothing is (or it cannot be looked at). */
function kindOf(file: string): 'directory' | 'file' | 'other' | undefined {
  try {
    const st = statSync(file);
    return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/** A directory the server creates when missing; something else at that path is refused. */
function directory(defaultName: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      const dir = isBlank(v) ? path.resolve(partnerSftpDefaults.stateDir, defaultName) : path.resolve(v.trim());
      const kind = kindOf(dir);
      if (kind !== undefined && kind !== 'directory') {
        ctx.addIssue({ code: 'custom', message: `${dir} exists and is not a directory` });
        return z.NEVER;
      }
      return dir;
    });
}

/** The host's private key file: generated when absent; when present it must be a private key ssh2 reads. */
const hostKeyFile = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const file = isBlank(v) ? path.resolve(partnerSftpDefaults.stateDir, 'ssh_host_ed25519_key') : path.resolve(v.trim());
    const kind = kindOf(file);
    if (kind === undefined) return file;
    if (kind !== 'file') {
      ctx.addIssue({ code: 'custom', message: `${file} is not a file (the host's private key, generated when absent)` });
      return z.NEVER;
    }
    let parsed: ReturnType<typeof utils.parseKey>;
    try {
      parsed = utils.parseKey(readFileSync(file));
    } catch (err) {
      parsed = err as Error;
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key?.isPrivateKey()) {
      ctx.addIssue({ code: 'custom', message: `${file} is not an unencrypted SSH private key${key instanceof Error ? ` (${key.message})` : ''}` });
      return z.NEVER;
    }
    return file;
  });

/** `partner:ssh-ed25519 AAAA…` entries separated by `;` or new lines: each partner name and key must be valid. */
const inlinePartnerKeys = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (isBlank(v)) return undefined;
    const bad: string[] = [];
    v.split(/[;\n]/).forEach((entry, index) => {
      const text = entry.trim();
      if (!text || text.startsWith('#')) return;
      const colon = text.indexOf(':');
      const partner = colon > 0 ? text.slice(0, colon).trim() : '';
      if (!PARTNER_NAME.test(partner)) {
        bad.push(`entry ${index + 1}: expected <partner>:<public key> with a partner of lowercase letters, digits, . _ - (got ${JSON.stringify(text.slice(0, 40))})`);
        return;
      }
      const key = utils.parseKey(text.slice(colon + 1).trim());
      if (key instanceof Error) bad.push(`entry ${index + 1} (${partner}): not an SSH public key: ${key.message}`);
    });
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: bad.join('; ') });
      return z.NEVER;
    }
    return v;
  });

const partnerSftpEnvironment = z.object({
  LAKE_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (isBlank(v)) return undefined;
      try {
        parseLakeUrl(v.trim());
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
      return v.trim();
    }),
  PARTNER_SFTP_HOST: listenHost,
  // 0 picks a free port (tests).
  PARTNER_SFTP_PORT: envInteger(partnerSftpDefaults.port, 0, 65535),
  PARTNER_SFTP_KEYS_DIR: directory('partner-keys'),
  PARTNER_SFTP_PARTNER_KEYS: inlinePartnerKeys,
  PARTNER_SFTP_HOMES_DIR: directory('homes'),
  PARTNER_SFTP_HOST_KEY: hostKeyFile,
  PARTNER_SFTP_MAX_FILE_SIZE: envByteSize(partnerSftpDefaults.maxFileBytes, 1),
});

/** The partner drop's settings; `defaultBucket` makes the default `LAKE_URL` (`s3://<bucket>/`). */
export function loadPartnerSftpSettings(env: NodeJS.ProcessEnv, defaultBucket: string): PartnerSftpSettings {
  const parsed = partnerSftpEnvironment.safeParse(env);
  if (!parsed.success) throw configErrorFrom(parsed.error);
  const e = parsed.data;
  return {
    lakeUrl: e.LAKE_URL ?? `s3://${defaultBucket}/`,
    host: e.PARTNER_SFTP_HOST,
    port: e.PARTNER_SFTP_PORT,
    hostKeyFile: e.PARTNER_SFTP_HOST_KEY,
    keysDir: e.PARTNER_SFTP_KEYS_DIR,
    inlineKeys: e.PARTNER_SFTP_PARTNER_KEYS,
    homesDir: e.PARTNER_SFTP_HOMES_DIR,
    maxFileBytes: e.PARTNER_SFTP_MAX_FILE_SIZE,
  };
}
