/**
 * A token bucket shared by every transfer of a run: `take(n)` resolves once n bytes fit in the limit.
 * The bucket holds at most one second of bytes, so an idle moment allows a burst no bigger than that.
 * Concurrent takers go into debt together and each waits for its share, which keeps the aggregate rate.
 */
export class BandwidthLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(bytesPerSecond > 0)) throw new Error('bandwidth limit must be > 0 bytes/s');
    this.tokens = bytesPerSecond;
    this.last = now();
  }

  async take(bytes: number): Promise<void> {
    const now = this.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens < 0) await this.sleep(Math.ceil((-this.tokens / this.bytesPerSecond) * 1000));
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A bandwidth: `500KiB`, `10MiB/s`, `2MB` (decimal units too), or bare bytes per second; `undefined` when it is not one. */
export function parseByteRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:\/s)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Math.round(Number(m[1]) * unit);
  return value > 0 ? value : undefined;
}
