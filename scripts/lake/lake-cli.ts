// Shared setup of the lake tools: configuration, the object store LAKE_URL names, and errors that
// say what to do next instead of a stack trace.
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { createObjectStore, parseLakeUrl, type ObjectStore } from '@app/object-store';

export interface LakeCli {
  config: AppConfig;
  lakeUrl: string;
  store: ObjectStore;
}

export function openLake(tool: string): LakeCli {
  const config = loadConfig(process.env, { service: tool, defaultHttpPort: 0 });
  const lakeUrl = process.env.LAKE_URL?.trim() || `s3://${config.objectStore.bucket}/`;
  try {
    parseLakeUrl(lakeUrl);
  } catch (err) {
    throw new ConfigError([{ variable: 'LAKE_URL', message: (err as Error).message }]);
  }
  return { config, lakeUrl, store: createObjectStore(lakeUrl, config.objectStore) };
}

/** Prints a failure with the next step to take, and exits non-zero. */
export function fail(tool: string, err: unknown, lakeUrl?: string): never {
  const e = err as Error & { retriable?: boolean; name?: string };
  console.error(`${tool} failed: ${e.message ?? String(err)}`);
  if (e instanceof ConfigError) {
    console.error('Fix the variables named above (see .env.example), then run it again.');
    process.exit(78);
  }
  if (e.name === 'ObjectStoreUnavailableError' || /ECONNREFUSED|socket|timeout/i.test(e.message ?? '')) {
    console.error(`The lake at ${lakeUrl ?? 'LAKE_URL'} did not answer: is the local stack up (npm run stack:status / npm run stack:up), or S3_ENDPOINT right?`);
  } else if (e.name === 'RegistryUnavailableError') {
    console.error('The schema registry did not answer: npm run stack:status, or check SCHEMA_REGISTRY_URL.');
  }
  process.exit(1);
}

/** `--name value` and `--flag` options plus positional arguments; `flags` never take a value. */
export function parseArgs(argv: string[], flags: readonly string[] = []): { options: Record<string, string | true>; positional: string[] } {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      if (inline !== undefined) options[name] = inline;
      else if (flags.includes(name)) options[name] = true;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) options[name] = argv[++i];
      else options[name] = true;
    } else positional.push(arg);
  }
  return { options, positional };
}

export function formatAge(ms: number): string {
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : `${(abs / 3_600_000).toFixed(1)}h`;
  return ms < 0 ? `in ${text}` : `${text} ago`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A plain text table, columns padded to their widest cell. */
export function formatTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v))));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i].length))));
  const line = (values: string[]) => values.map((v, i) => (v.length > widths[i] ? v.slice(0, widths[i] - 1) + '…' : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
