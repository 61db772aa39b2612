/**
 * A service process fails at boot, not at first use: an invalid variable stops it with exit code 78
 * and a message naming the variable; a valid config with secrets boots without printing them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { exited, freePort, mainOf, ROOT, TS_NODE } from './support/service-process';

describe.each(['order-service', 'inventory-service', 'fraud-service', 's3-sink'])('%s boot', (service) => {
  it('exits 78 naming every invalid variable', () => {
    const result = spawnSync(TS_NODE[0], [...TS_NODE.slice(1), mainOf(service)], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_AUTH: 'kerberos', S3_BUCKET: 'Not_A_Bucket' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toContain('KAFKA_AUTH');
    expect(result.stderr).toContain('S3_BUCKET');
    expect(result.status).toBe(78);
  });
});

describe('secrets at boot', () => {
  it('boots with SCRAM credentials and never logs the passwords', async () => {
    const port = await freePort();
    const kafkaPassword = process.env.LOCAL_SCRAM_ADMIN_PASSWORD ?? 'admin-secret';
    const child = spawn(TS_NODE[0], [...TS_NODE.slice(1), mainOf('order-service')], {
      cwd: ROOT,
      env: {
        ...process.env,
        HTTP_PORT: String(port),
        KAFKA_BROKERS: `127.0.0.1:${process.env.LOCAL_KAFKA_SASL_PORT ?? '9096'}`,
        KAFKA_AUTH: 'scram',
        KAFKA_SASL_USERNAME: 'admin',
        KAFKA_SASL_PASSWORD: kafkaPassword,
        SCHEMA_REGISTRY_PASSWORD: 'registry-password-never-logged',
        S3_ACCESS_KEY_ID: 'securecart-local',
        S3_SECRET_ACCESS_KEY: 'securecart-local-secret',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('"message":"listening"') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain('"message":"listening"');
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(((await ready.json()) as { checks: { kafka: { ok: boolean } } }).checks.kafka.ok).toBe(true);
    } finally {
      // The child may already be gone (crashed at boot): kill() is then a no-op and exited() resolves.
      child.kill('SIGTERM');
      await exited(child);
    }
    expect(output).toContain('"mode":"scram"');
    expect(output).not.toContain(kafkaPassword);
    expect(output).not.toContain('registry-password-never-logged');
    expect(output).not.toContain('securecart-local-secret');
  });
});
