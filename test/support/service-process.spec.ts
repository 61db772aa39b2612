import { spawn } from 'node:child_process';
import { exited } from './service-process';

describe('exited', () => {
  it('resolves for a child that has already exited instead of waiting forever', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(3)']);
    await new Promise((resolve) => child.once('exit', resolve));
    // A plain once('exit') here would never fire again; the race below fails the test if it hangs.
    const outcome = await Promise.race([
      exited(child).then(() => 'resolved'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2_000).unref()),
    ]);
    expect(outcome).toBe('resolved');
    expect(child.exitCode).toBe(3);
  });

  it('waits for a running child to exit', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const done = exited(child);
    child.kill('SIGTERM');
    await done;
    expect(child.signalCode).toBe('SIGTERM');
  });
});
