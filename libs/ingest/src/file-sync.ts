import { createHash, randomBytes } from 'node:crypto';
import { compositeSha256, supportsResumableUploads, type ObjectStore, type ResumableUploads, type UploadedPart } from '@app/object-store';
import { BandwidthLimiter } from './bandwidth-limiter';
import type { FileSource, SourceFile } from './file-source';
import { ingestDefaults } from './ingest-defaults';
import { parseInventoryCsv, type MalformedRow, type StockCountSink } from './inventory-csv';
import { pathFilter } from './path-filter';
import { stockCountRequestId } from './stock-count-sink';
import { loadPendingUploads, loadSyncState, pendingUploadKey, saveSyncState, sourcePrefix, type PendingUpload, type SyncedFile } from './sync-state';

/** One source to sync and how. */
export interface SyncSourceSpec {
  /** `[a-z0-9][a-z0-9._-]*`: the lake folder `files/<name>/`. */
  name: string;
  include: readonly string[];
  exclude: readonly string[];
  /** Globs of the files whose rows are warehouse stock counts (`sku,warehouseId,onHand`). */
  inventoryPatterns: readonly string[];
  /** Upload rate cap across the run, bytes per second; unset = unlimited. */
  bandwidthBytesPerSecond?: number;
}

export interface FileSyncDeps {
  store: ObjectStore;
  source: FileSource;
  /** Where stock counts of inventory CSVs go; without one, inventory CSVs are only copied. */
  stockCounts?: StockCountSink;
  now?: () => Date;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  options?: Partial<Pick<typeof ingestDefaults, 'multipartThresholdBytes' | 'partSizeBytes' | 'concurrency' | 'checkpointEveryFiles' | 'maxInventoryCsvBytes'>>;
}

export interface FileRunEntry {
  path: string;
  status: 'copied' | 'failed';
  size: number;
  mtime: string;
  key?: string;
  sha256?: string;
  /** Multipart files: parts in total, and parts an earlier (crashed) run had already uploaded. */
  parts?: number;
  resumedParts?: number;
  stockCounts?: number;
  error?: string;
}

/** What one run did: printed, and written as a manifest next to the day's copies. */
export interface FileRunReport {
  kind: 'file-ingest-run';
  version: 1;
  runId: string;
  source: string;
  location: string;
  dt: string;
  startedAt: string;
  finishedAt: string;
  /** Files the filters took. */
  considered: number;
  copied: number;
  skipped: number;
  failed: number;
  /** Bytes uploaded in this run (resumed parts excluded). */
  bytes: number;
  /** Copied and failed files; unchanged files are only counted. */
  files: FileRunEntry[];
  stockCounts: { files: number; published: number; malformed: MalformedRow[] };
  manifestKey: string;
}

const SOURCE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isValidSourceName(name: string): boolean {
  return SOURCE_NAME.test(name);
}

/** `files/<source>/dt=YYYY-MM-DD/_manifest-run-<runId>.json`: beside the day's copies, one per run. */
export function runManifestKey(source: string, dt: string, runId: string): string {
  return `${sourcePrefix(source)}dt=${dt}/_manifest-run-${runId}.json`;
}

const sha256Base64 = (body: Uint8Array) => createHash('sha256').update(body).digest('base64');
const hexOf = (base64: string) => Buffer.from(base64, 'base64').toString('hex');
const withoutPartCount = (checksum: string) => checksum.replace(/-\d+$/, '');

/**
 * Syncs a source into `files/<source>/dt=<run day>/<path>` incrementally: a file is copied when it is
 * new, or its size or mtime changed and its sha256 differs from the last copy (a touched but identical
 * file is only re-remembered). Every copy is verified after the upload against the sha256 of the bytes
 * read; large files go by multipart whose upload id and parts are saved in the lake after each part, so
 * the next run after a crash sends only the missing parts. One file failing never stops the others.
 */
export async function syncSource(spec: SyncSourceSpec, deps: FileSyncDeps): Promise<FileRunReport> {
  if (!isValidSourceName(spec.name)) throw new Error(`invalid source name ${JSON.stringify(spec.name)} (lowercase letters, digits, . _ -)`);
  const options = { ...ingestDefaults, ...deps.options };
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const { store, source } = deps;
  const started = now();
  const dt = started.toISOString().slice(0, 10);
  const runId = `${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  const limiter = spec.bandwidthBytesPerSecond ? new BandwidthLimiter(spec.bandwidthBytesPerSecond) : undefined;
  const taken = pathFilter(spec.include, spec.exclude);
  // No inventory patterns means no inventory files (unlike includes, where none means all).
  const isInventory = spec.inventoryPatterns.length > 0 ? pathFilter(spec.inventoryPatterns, []) : () => false;
  const resumable = supportsResumableUploads(store) ? store : undefined;

  const state = await loadSyncState(store, spec.name);
  const pending = await loadPendingUploads(store, spec.name);
  const listed = (await source.list()).filter((f) => taken(f.path));
  const report: FileRunReport = {
    kind: 'file-ingest-run',
    version: 1,
    runId,
    source: spec.name,
    location: source.description,
    dt,
    startedAt: started.toISOString(),
    finishedAt: '',
    considered: listed.length,
    copied: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    files: [],
    stockCounts: { files: 0, published: 0, malformed: [] },
    manifestKey: runManifestKey(spec.name, dt, runId),
  };

  const candidates: SourceFile[] = [];
  for (const file of listed) {
    const previous = state.files[file.path];
    if (previous && previous.size === file.size && previous.mtimeMs === file.mtimeMs) report.skipped++;
    else candidates.push(file);
  }
  // Largest first: the long pole starts at once instead of after the small files.
  candidates.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1));
  log('sync started', { source: spec.name, location: source.description, considered: listed.length, candidates: candidates.length, pendingUploads: pending.size });

  let dirty = false;
  let sinceCheckpoint = 0;
  let saving = Promise.resolve();
  const checkpoint = () => {
    saving = saving.then(() => saveSyncState(store, state, now()));
    return saving;
  };

  const remember = (file: SourceFile, synced: Omit<SyncedFile, 'size' | 'mtimeMs'>) => {
    state.files[file.path] = { size: file.size, mtimeMs: file.mtimeMs, ...synced };
    dirty = true;
  };

  const keyFor = (file: SourceFile) => `${sourcePrefix(spec.name)}dt=${dt}/${file.path}`;

  const publishCounts = async (file: SourceFile, body: Buffer, sha256Hex: string): Promise<number> => {
    const parsed = parseInventoryCsv(file.path, body.toString('utf8'));
    report.stockCounts.files++;
    report.stockCounts.malformed.push(...parsed.malformed);
    for (const bad of parsed.malformed) log('malformed inventory row', { ...bad });
    if (!deps.stockCounts) return 0;
    await deps.stockCounts.publish(
      parsed.counts.map((c) => ({ type: 'SET_ON_HAND', sku: c.sku, warehouseId: c.warehouseId, onHand: c.onHand, requestId: stockCountRequestId(spec.name, file.path, sha256Hex, c.line) })),
    );
    report.stockCounts.published += parsed.counts.length;
    return parsed.counts.length;
  };

  const verify = async (key: string, expected: { whole: string; composite?: string }, readBack: boolean): Promise<void> => {
    // A small object is read back (one request); a multipart one is checked against the digest the store
    // keeps, read back only when it keeps none.
    let stored = !readBack && resumable ? await resumable.storedSha256(key) : undefined;
    stored ??= sha256Base64(await store.get(key));
    const matches = withoutPartCount(stored) === expected.whole || (expected.composite !== undefined && withoutPartCount(stored) === withoutPartCount(expected.composite));
    if (!matches) {
      await store.delete([key]).catch(() => undefined);
      throw new Error(`checksum mismatch after upload of ${key}: stored ${stored}, expected ${expected.whole}`);
    }
  };

  const copySmall = async (file: SourceFile, previous: SyncedFile | undefined): Promise<FileRunEntry | 'unchanged'> => {
    const body = await source.readRange(file.path, 0, file.size);
    if (body.length !== file.size) throw new Error(`${file.path} changed while it was read (${body.length} of ${file.size} bytes)`);
    const sha = sha256Base64(body);
    const shaHex = hexOf(sha);
    if (previous?.sha256 === shaHex) {
      remember(file, { sha256: shaHex, key: previous.key, copiedAt: previous.copiedAt });
      return 'unchanged';
    }
    const key = keyFor(file);
    await limiter?.take(body.length);
    await store.put(key, body, { sha256Base64: sha });
    await verify(key, { whole: sha }, true);
    report.bytes += body.length;
    const stockCounts = isInventory(file.path) ? await publishCounts(file, body, shaHex) : undefined;
    remember(file, { sha256: shaHex, key, copiedAt: now().toISOString() });
    return { path: file.path, status: 'copied', size: file.size, mtime: new Date(file.mtimeMs).toISOString(), key, sha256: shaHex, stockCounts };
  };

  const wholeSha = async (file: SourceFile): Promise<string> => {
    const hash = createHash('sha256');
    for (let offset = 0; offset < file.size; offset += options.partSizeBytes) {
      hash.update(await source.readRange(file.path, offset, Math.min(options.partSizeBytes, file.size - offset)));
    }
    return hash.digest('hex');
  };

  const copyLarge = async (file: SourceFile, previous: SyncedFile | undefined, uploads: ResumableUploads): Promise<FileRunEntry | 'unchanged'> => {
    const found = pending.get(file.path);
    let upload: PendingUpload | undefined = found?.upload;
    const uploadStateKey = pendingUploadKey(spec.name, file.path);
    if (upload && (upload.size !== file.size || upload.mtimeMs !== file.mtimeMs || upload.partSizeBytes !== options.partSizeBytes)) {
      log('source file changed since its interrupted upload: starting over', { path: file.path });
      await uploads.abortUpload(upload.key, upload.uploadId);
      upload = undefined;
    }
    if (!upload && previous && previous.size === file.size && (await wholeSha(file)) === previous.sha256) {
      remember(file, { sha256: previous.sha256, key: previous.key, copiedAt: previous.copiedAt });
      return 'unchanged';
    }
    let held: UploadedPart[] | undefined;
    if (upload) {
      held = await uploads.listParts(upload.key, upload.uploadId);
      if (!held) upload = undefined; // completed or aborted meanwhile: start over
    }
    if (!upload) {
      const key = keyFor(file);
      upload = { path: file.path, key, uploadId: await uploads.createUpload(key), size: file.size, mtimeMs: file.mtimeMs, partSizeBytes: options.partSizeBytes, parts: [], startedAt: now().toISOString() };
      await store.put(uploadStateKey, Buffer.from(JSON.stringify(upload)), { contentType: 'application/json' });
    } else {
      log('resuming interrupted upload', { path: file.path, uploadId: upload.uploadId, parts: upload.parts.length });
    }
    const current = upload;
    // A part counts as done when the store holds it with the size, and the saved digest, we sent.
    const done = new Map(current.parts.filter((p) => held?.some((h) => h.partNumber === p.partNumber && h.size === p.size)).map((p) => [p.partNumber, p]));
    const count = Math.max(1, Math.ceil(file.size / options.partSizeBytes));
    const hash = createHash('sha256');
    const partDigests: string[] = [];
    const parts: UploadedPart[] = [];
    let resumedParts = 0;
    for (let number = 1; number <= count; number++) {
      const offset = (number - 1) * options.partSizeBytes;
      const body = await source.readRange(file.path, offset, Math.min(options.partSizeBytes, file.size - offset));
      hash.update(body);
      const digest = sha256Base64(body);
      partDigests.push(digest);
      const existing = done.get(number);
      if (existing && existing.sha256Base64 === digest) {
        parts.push(existing);
        resumedParts++;
        continue;
      }
      await limiter?.take(body.length);
      const part = await uploads.uploadPart(current.key, current.uploadId, { partNumber: number, body, sha256Base64: digest });
      parts.push(part);
      report.bytes += body.length;
      current.parts = [...current.parts.filter((p) => p.partNumber !== number), part];
      await store.put(uploadStateKey, Buffer.from(JSON.stringify(current)), { contentType: 'application/json' });
    }
    const whole = hash.digest('base64');
    await uploads.completeUpload(current.key, current.uploadId, parts);
    await verify(current.key, { whole, composite: compositeSha256(partDigests) }, false);
    const shaHex = hexOf(whole);
    let stockCounts: number | undefined;
    if (isInventory(file.path) && file.size <= options.maxInventoryCsvBytes) {
      stockCounts = await publishCounts(file, await source.readRange(file.path, 0, file.size), shaHex);
    }
    remember(file, { sha256: shaHex, key: current.key, copiedAt: now().toISOString() });
    await store.delete([uploadStateKey]);
    return { path: file.path, status: 'copied', size: file.size, mtime: new Date(file.mtimeMs).toISOString(), key: current.key, sha256: shaHex, parts: count, resumedParts, stockCounts };
  };

  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const file = candidates[next++];
      const previous = state.files[file.path];
      let outcome: FileRunEntry | 'unchanged';
      try {
        outcome = resumable && file.size >= options.multipartThresholdBytes ? await copyLarge(file, previous, resumable) : await copySmall(file, previous);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        log('file failed', { path: file.path, error: message });
        outcome = { path: file.path, status: 'failed', size: file.size, mtime: new Date(file.mtimeMs).toISOString(), error: message };
      }
      if (outcome === 'unchanged') report.skipped++;
      else {
        report.files.push(outcome);
        if (outcome.status === 'copied') report.copied++;
        else report.failed++;
      }
      if (dirty && ++sinceCheckpoint >= options.checkpointEveryFiles) {
        sinceCheckpoint = 0;
        await checkpoint();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, candidates.length)) }, worker));
  if (dirty) await checkpoint();
  report.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  report.finishedAt = now().toISOString();
  // Only runs that did something leave a manifest; a run that found nothing new says so in its log.
  if (report.copied > 0 || report.failed > 0 || report.stockCounts.malformed.length > 0) {
    await store.put(report.manifestKey, Buffer.from(JSON.stringify(report, null, 2)), { contentType: 'application/json' });
  } else report.manifestKey = '';
  log('sync finished', { source: spec.name, runId, copied: report.copied, skipped: report.skipped, failed: report.failed, bytes: report.bytes });
  return report;
}

/** The report as a few lines for a terminal. */
export function formatRunReport(report: FileRunReport): string {
  const lines = [
    `file-ingest ${report.source} (${report.location}) run ${report.runId}: copied ${report.copied}, skipped ${report.skipped}, failed ${report.failed}, ${report.bytes} bytes uploaded`,
  ];
  for (const f of report.files.filter((e) => e.resumedParts)) lines.push(`  resumed ${f.path}: ${f.resumedParts} of ${f.parts} parts were already uploaded`);
  for (const f of report.files.filter((e) => e.status === 'failed')) lines.push(`  FAILED ${f.path}: ${f.error}`);
  if (report.stockCounts.files > 0) lines.push(`  stock counts: ${report.stockCounts.published} published from ${report.stockCounts.files} inventory file(s), ${report.stockCounts.malformed.length} malformed row(s)`);
  for (const m of report.stockCounts.malformed) lines.push(`  malformed row ${m.file}:${m.line}: ${m.reason}`);
  lines.push(report.manifestKey ? `  manifest: ${report.manifestKey}` : '  nothing new: no manifest written');
  return lines.join('\n');
}
