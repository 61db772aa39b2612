import { createLogger } from '@app/logging';
import { startInBackground } from './start-in-background';

const quiet = createLogger({ service: 'test' }, 'error');
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

describe('startInBackground', () => {
  it('retries a failing start until it succeeds', async () => {
    let calls = 0;
    await startInBackground(
      'thing',
      async () => {
        if (++calls < 4) throw new Error('broker down');
      },
      quiet,
      () => false,
      fast,
    );
    expect(calls).toBe(4);
  });

  it('gives up once the app is stopping, without another attempt', async () => {
    let calls = 0;
    let stopping = false;
    await startInBackground(
      'thing',
      async () => {
        calls++;
        stopping = true;
        throw new Error('broker down');
      },
      quiet,
      () => stopping,
      fast,
    );
    expect(calls).toBe(1);
  });
});
