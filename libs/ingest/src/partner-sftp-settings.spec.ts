import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { utils } from 'ssh2';
import { ConfigError } from '@app/config';
import { loadPartnerSftpSettings, partnerSftpDefaults } from './partner-sftp-settings';

const work = mkdtempSync(join(tmpdir(), 'partner-sftp-settings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const keyPair = utils.generateKeyPairSync('ed25519');

/** variable → message of every problem, or a failure when the settings load. */
function problems(env: NodeJS.ProcessEnv): Record<string, string> {
  try {
    loadPartnerSftpSettings(env, 'lake-bucket');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return Object.fromEntries((err as ConfigError).problems.map((p) => [p.variable, p.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('partner-sftp settings', () => {
  it('defaults work locally: loopback :2222, state under .local-stack/partner-sftp, the platform bucket, 5 GiB', () => {
    const state = resolve(partnerSftpDefaults.stateDir);
    expect(loadPartnerSftpSettings({}, 'lake-bucket')).toEqual({
      lakeUrl: 's3://lake-bucket/',
      host: '127.0.0.1',
      port: 2222,
      hostKeyFile: join(state, 'ssh_host_ed25519_key'),
      keysDir: join(state, 'partner-keys'),
      inlineKeys: undefined,
      homesDir: join(state, 'homes'),
      maxFileBytes: 5 * 1024 ** 3,
    });
    // Blank is the default too.
    expect(loadPartnerSftpSettings({ PARTNER_SFTP_PORT: ' ', PARTNER_SFTP_HOST: '', LAKE_URL: '' }, 'b')).toMatchObject({ port: 2222, host: '127.0.0.1', lakeUrl: 's3://b/' });
  });

  it('reads every variable', () => {
    const hostKey = join(work, 'host_key');
    writeFileSync(hostKey, keyPair.private);
    const inline = `acme-pay:${keyPair.public};\nglobex:${keyPair.public}`;
    expect(
      loadPartnerSftpSettings(
        {
          LAKE_URL: 'file:///tmp/lake',
          PARTNER_SFTP_HOST: '0.0.0.0',
          PARTNER_SFTP_PORT: '0',
          PARTNER_SFTP_KEYS_DIR: join(work, 'keys'),
          PARTNER_SFTP_PARTNER_KEYS: inline,
          PARTNER_SFTP_HOMES_DIR: join(work, 'homes'),
          PARTNER_SFTP_HOST_KEY: hostKey,
          PARTNER_SFTP_MAX_FILE_SIZE: '2GiB',
        },
        'lake-bucket',
      ),
    ).toEqual({
      lakeUrl: 'file:///tmp/lake',
      host: '0.0.0.0',
      port: 0,
      hostKeyFile: hostKey,
      keysDir: join(work, 'keys'),
      inlineKeys: inline,
      homesDir: join(work, 'homes'),
      maxFileBytes: 2 * 1024 ** 3,
    });
    expect(loadPartnerSftpSettings({ PARTNER_SFTP_HOST: 'sftp.internal', PARTNER_SFTP_PORT: '65535' }, 'b')).toMatchObject({ host: 'sftp.internal', port: 65535 });
    expect(loadPartnerSftpSettings({ PARTNER_SFTP_HOST: '::' }, 'b').host).toBe('::');
  });

  it('names every bad variable at once, each with what was expected', () => {
    const notADir = join(work, 'plain-file');
    writeFileSync(notADir, 'x');
    const notAKey = join(work, 'not-a-key');
    writeFileSync(notAKey, 'hello');
    const publicOnly = join(work, 'public-only');
    writeFileSync(publicOnly, keyPair.public);
    const dirAsKey = join(work, 'a-dir');
    mkdirSync(dirAsKey, { recursive: true });
    const found = problems({
      LAKE_URL: 'ftp://x/',
      PARTNER_SFTP_HOST: 'not a host!',
      PARTNER_SFTP_PORT: '70000',
      PARTNER_SFTP_KEYS_DIR: notADir,
      PARTNER_SFTP_PARTNER_KEYS: `Acme:${keyPair.public};globex:ssh-ed25519 garbage`,
      PARTNER_SFTP_HOMES_DIR: notADir,
      PARTNER_SFTP_HOST_KEY: notAKey,
      PARTNER_SFTP_MAX_FILE_SIZE: '100MB',
    });
    expect(Object.keys(found).sort()).toEqual([
      'LAKE_URL',
      'PARTNER_SFTP_HOMES_DIR',
      'PARTNER_SFTP_HOST',
      'PARTNER_SFTP_HOST_KEY',
      'PARTNER_SFTP_KEYS_DIR',
      'PARTNER_SFTP_MAX_FILE_SIZE',
      'PARTNER_SFTP_PARTNER_KEYS',
      'PARTNER_SFTP_PORT',
    ]);
    expect(found.LAKE_URL).toBe('unsupported scheme ftp: (expected s3: or file:)');
    expect(found.PARTNER_SFTP_HOST).toBe('expected an IP address or host name to listen on, got "not a host!"');
    expect(found.PARTNER_SFTP_PORT).toBe('expected an integer from 0 to 65535');
    expect(found.PARTNER_SFTP_KEYS_DIR).toBe(`${notADir} exists and is not a directory`);
    expect(found.PARTNER_SFTP_HOMES_DIR).toBe(`${notADir} exists and is not a directory`);
    expect(found.PARTNER_SFTP_HOST_KEY).toMatch(new RegExp(`^${notAKey} is not an unencrypted SSH private key`));
    expect(found.PARTNER_SFTP_MAX_FILE_SIZE).toBe('expected a size such as 64MiB or 1048576 (at least 1 byte)');
    expect(found.PARTNER_SFTP_PARTNER_KEYS).toMatch(/^entry 1: expected <partner>:<public key> with a partner of lowercase letters/);
    expect(found.PARTNER_SFTP_PARTNER_KEYS).toMatch(/; entry 2 \(globex\): not an SSH public key/);

    expect(problems({ PARTNER_SFTP_HOST_KEY: publicOnly }).PARTNER_SFTP_HOST_KEY).toBe(`${publicOnly} is not an unencrypted SSH private key`);
    expect(problems({ PARTNER_SFTP_HOST_KEY: dirAsKey }).PARTNER_SFTP_HOST_KEY).toBe(`${dirAsKey} is not a file (the host's private key, generated when absent)`);
    expect(problems({ PARTNER_SFTP_PORT: '-1' }).PARTNER_SFTP_PORT).toBe('expected an integer from 0 to 65535');
    expect(problems({ PARTNER_SFTP_PORT: '22.5' }).PARTNER_SFTP_PORT).toBe('expected an integer from 0 to 65535');
    expect(problems({ PARTNER_SFTP_MAX_FILE_SIZE: '0' }).PARTNER_SFTP_MAX_FILE_SIZE).toBe('expected a size such as 64MiB or 1048576 (at least 1 byte)');
    expect(problems({ PARTNER_SFTP_PARTNER_KEYS: 'no-colon-here' }).PARTNER_SFTP_PARTNER_KEYS).toMatch(/^entry 1: expected <partner>:<public key>/);
    // The message is what bootstrapService prints before exit 78.
    expect(() => loadPartnerSftpSettings({ PARTNER_SFTP_PORT: 'ssh' }, 'b')).toThrow(new ConfigError([{ variable: 'PARTNER_SFTP_PORT', message: 'expected an integer from 0 to 65535' }]));
    expect(() => loadPartnerSftpSettings({ PARTNER_SFTP_PORT: 'ssh' }, 'b')).toThrow('Invalid configuration:\n  PARTNER_SFTP_PORT: expected an integer from 0 to 65535');
  });

  it('takes a missing host key file and missing directories (created at start) and skips comments in inline keys', () => {
    const s = loadPartnerSftpSettings(
      { PARTNER_SFTP_HOST_KEY: join(work, 'nope', 'host_key'), PARTNER_SFTP_KEYS_DIR: join(work, 'nope', 'keys'), PARTNER_SFTP_PARTNER_KEYS: `# acme's key\nacme:${keyPair.public}\n` },
      'b',
    );
    expect(s).toMatchObject({ hostKeyFile: join(work, 'nope', 'host_key'), keysDir: join(work, 'nope', 'keys') });
  });
});
