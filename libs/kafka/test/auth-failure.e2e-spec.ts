/**
 * Refused credentials against the real SCRAM listener: the process names the cause and exits non-zero
 * after a bounded number of tries instead of retrying forever.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const saslBrokers = `127.0.0.1:${process.env.LOCAL_KAFKA_SASL_PORT ?? '9096'}`;
const root = join(__dirname, '..', '..', '..');

function runLogin(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'fixtures', 'kafka-login.ts')],
      { cwd: root, env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(root, 'tsconfig.json'), ...env } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // Bounded: a process retrying forever would be killed here and fail the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Kafka login with SCRAM credentials', () => {
  it('exits non-zero naming the authentication failure, after the configured tries, without printing the password', async () => {
    const { code, output } = await runLogin({
      SERVICE_NAME: 'fraud-service',
      KAFKA_BROKERS: saslBrokers,
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_USERNAME: 'admin',
      KAFKA_SASL_PASSWORD: 'definitely-wrong-password',
      KAFKA_AUTH_MAX_ATTEMPTS: '2',
    });
    expect(code).toBe(77);
    expect(output).toMatch(
      /fraud-service: Kafka authentication failed for SCRAM-SHA-512 user "admin" at 127\.0\.0\.1:\d+ after 2 attempt\(s\): .*authentication failed/i,
    );
    expect(output).not.toContain('definitely-wrong-password');
  }, 60_000);

  it('msk-iam against a listener without OAUTHBEARER: named as an authentication failure, not retried forever', async () => {
    const { code, output } = await runLogin({
      SERVICE_NAME: 'fraud-service',
      KAFKA_BROKERS: saslBrokers,
      KAFKA_AUTH: 'msk-iam',
      KAFKA_SSL: 'false',
      KAFKA_AUTH_MAX_ATTEMPTS: '2',
      // Static test keys: the token is signed locally, no AWS call.
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    });
    expect(code).toBe(77);
    expect(output).toMatch(/Kafka authentication failed for MSK IAM default credentials \(session "fraud-service"\) .* after 2 attempt\(s\): .*SASL mechanism/);
    expect(output).not.toContain('wJalrXUtnFEMI');
  }, 60_000);

  it('logs in with the right password', async () => {
    const { code, output } = await runLogin({
      SERVICE_NAME: 'fraud-service',
      KAFKA_BROKERS: saslBrokers,
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_USERNAME: 'admin',
      KAFKA_SASL_PASSWORD: process.env.LOCAL_SCRAM_ADMIN_PASSWORD ?? 'admin-secret',
    });
    expect(output).toContain('fraud-service: authenticated');
    expect(code).toBe(0);
  }, 60_000);
});
