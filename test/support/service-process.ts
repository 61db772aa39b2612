/**
 * Runs a service's real `main.ts` as a child process (bootstrapService, env parsing, Nest, HTTP), the
 * way a deployment starts it, for e2e tests that need a process of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const TS_NODE = [join(ROOT, 'node_modules/.bin/ts-node'), '--transpile-only', '-r', 'tsconfig-paths/register'];
export const mainOf = (service: string) => join(ROOT, 'apps', service, 'src/main.ts');

/** A loopback port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Resolves once the child has exited, including when it already had: `once('exit')` alone never
 * fires for a child that is gone, and the test would hang until jest's timeout.
 */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `service` with `env` over the test's own environment and waits for its "listening" line. */
export async function startService(service: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(TS_NODE[0], [...TS_NODE.slice(1), mainOf(service)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, HTTP_PORT: String(port) },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const onData = () => {
      if (output.includes('"message":"listening"')) done(true);
    };
    const done = (ok: boolean) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(ok);
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => done(false));
    onData();
  });
  if (!listening) {
    await stop();
    throw new Error(`${service} did not start listening:\n${output}`);
  }
  return { child, baseUrl: `http://127.0.0.1:${port}`, output: () => output, stop };
}
