/**
 * `stack:up` / `stack:down` on a second, private stack (its own state folder and ports; the shared
 * stack everyone's tests use is never touched): `down` leaves no process behind, checked from outside
 * by pid, and `up` refuses a taken port at once, naming the component and its log, before any JVM starts.
 * The private stack runs only the S3 server (seconds to start); the start/stop code is the same for all
 * three components.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from './support/service-process';

const STACK_SH = join(ROOT, 'infra/local/stack.sh');

function stack(command: string, env: Record<string, string>) {
  const result = spawnSync('bash', [STACK_SH, command], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every live process whose command line names `dir` (what `stack.sh` itself treats as "ours"). */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function groupOf(leader: number): number[] {
  const pids = spawnSync('pgrep', ['-g', String(leader)], { encoding: 'utf8' }).stdout.trim();
  return pids ? pids.split('\n').map(Number) : [];
}

describe('stack.sh on a private stack', () => {
  let state: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    state = mkdtempSync(join(tmpdir(), 'stack-'));
    // Reuse the shared stack's downloads (read-only once complete) instead of fetching them again.
    symlinkSync(join(ROOT, '.local-stack/downloads'), join(state, 'downloads'));
    const [kafka, controller, sasl, registry, management, s3] = await Promise.all(Array.from({ length: 6 }, freePort));
    env = {
      STACK_STATE_DIR: state,
      LOCAL_KAFKA_PORT: String(kafka),
      LOCAL_KAFKA_CONTROLLER_PORT: String(controller),
      LOCAL_KAFKA_SASL_PORT: String(sasl),
      LOCAL_REGISTRY_PORT: String(registry),
      LOCAL_REGISTRY_MANAGEMENT_PORT: String(management),
      LOCAL_S3_PORT: String(s3),
      S3_BUCKET: 'stack-lifecycle-test',
    };
  });

  afterEach(() => {
    // Whatever happened above, leave nothing running (only this test's processes: they name `state`).
    for (const pid of processesNaming(state)) process.kill(pid, 'SIGKILL');
    rmSync(state, { recursive: true, force: true }); // removes the downloads link, not its target
  });

  it('down stops every process up started, as seen from outside by pid', () => {
    const up = stack('up', { ...env, STACK_COMPONENTS: 's3' });
    expect(up.output).toContain('s3: ready');
    expect(up.status).toBe(0);

    const leader = Number(readFileSync(join(state, 's3/s3.pid'), 'utf8'));
    const started = [...new Set([leader, ...groupOf(leader), ...processesNaming(state)])];
    expect(started.every(alive)).toBe(true);
    expect(stack('status', { ...env, STACK_COMPONENTS: 's3' }).output).toMatch(new RegExp(`s3\\s+ready\\s+pid=${leader}`));

    const down = stack('down', { ...env, STACK_COMPONENTS: 's3' });
    expect(down.output).toContain('stack down: no stack process left');
    expect(down.status).toBe(0);
    expect(started.filter(alive)).toEqual([]);
    expect(processesNaming(state)).toEqual([]);
    expect(existsSync(join(state, 's3/s3.pid'))).toBe(false);
  });

  describe('with a port taken by someone else', () => {
    let squatter: Server;
    afterEach(() => new Promise((resolve) => squatter.close(resolve)));

    it('up fails at once naming the component, the port and its log, and starts nothing', async () => {
      squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(Number(env.LOCAL_KAFKA_PORT), '127.0.0.1', resolve));
      const up = stack('up', env); // all three components, as `npm run stack:up` starts them
      expect(up.status).not.toBe(0);
      expect(up.output).toContain(
        `kafka: port ${env.LOCAL_KAFKA_PORT} is taken by a process this stack did not start`,
      );
      expect(up.output).toContain(`log: ${join(state, 'kafka/kafka.log')}`);
      // Refused before anything started: no registry or S3 server came up on the free ports meanwhile.
      expect(processesNaming(state)).toEqual([]);
      expect(readdirSync(state)).toEqual(['downloads']);
    });
  });
});
