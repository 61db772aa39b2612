/**
 * Reading a batch: the request body (gzip undone, sizes capped while reading, never buffered past the
 * limit) and its records (a JSON array, or NDJSON where a bad line fails alone).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** The batch as a whole cannot be taken: answered with this status and no per-record result. */
export class BatchRejectedError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'BatchRejectedError';
  }
}

/** A line of an NDJSON batch that is not JSON: its record fails, the others go on. */
export class MalformedLine {
  constructor(readonly message: string) {}
}

export type BatchFormat = 'json' | 'ndjson' | 'sniff';

/** The format a content type announces; text/plain (what `navigator.sendBeacon` sends without a preflight) is sniffed. */
export function batchFormatOf(contentType: string | undefined): BatchFormat {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines') return 'ndjson';
  if (type === 'text/plain' || type === '') return 'sniff';
  throw new BatchRejectedError(415, `unsupported content type ${type}: send application/json (an array), application/x-ndjson or text/plain`);
}

export function isGzip(headers: IncomingHttpHeaders): boolean {
  const encoding = String(headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return true;
  if (encoding === 'identity' || encoding === '') return false;
  throw new BatchRejectedError(415, `unsupported content encoding ${encoding}: send gzip or none`);
}

/**
 * Reads the body, undoing gzip, and stops as soon as it passes `maxBytes` (counted after decompression:
 * the limit is on the batch, not on the wire). A declared Content-Length over the limit is refused unread.
 */
export async function readBatchBody(req: Readable & { headers: IncomingHttpHeaders }, maxBytes: number): Promise<Buffer> {
  const gzip = isGzip(req.headers);
  const declared = Number(req.headers['content-length']);
  // gzip can be a little larger than its input for tiny bodies; anything past that is over the limit anyway.
  if (Number.isFinite(declared) && declared > maxBytes + (gzip ? 1024 : 0)) {
    throw new BatchRejectedError(413, `batch of ${declared} bytes over the limit of ${maxBytes}`);
  }
  const source: Readable = gzip ? req.pipe(createGunzip()) : req;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) throw new BatchRejectedError(413, `batch over the limit of ${maxBytes} bytes${gzip ? ' (after gzip)' : ''}`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (gzip) req.unpipe();
    if (err instanceof BatchRejectedError) throw err;
    if (gzip && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new BatchRejectedError(400, `not valid gzip: ${(err as Error).message}`);
    // The client went away mid-body (closed tab, timeout): nothing to answer, nothing to log as a fault.
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') throw new BatchRejectedError(400, 'request aborted by the client');
    throw err;
  }
  return Buffer.concat(chunks, total);
}

/** The records of a batch body, in order; NDJSON lines that are not JSON come back as {@link MalformedLine}. */
export function parseBatch(body: Buffer, format: BatchFormat, maxEvents: number): unknown[] {
  const text = body.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) throw new BatchRejectedError(400, 'empty batch');
  const asArray = format === 'json' || (format === 'sniff' && first === '[');
  let records: unknown[];
  if (asArray) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new BatchRejectedError(400, `body is not JSON: ${(err as Error).message} (one record per line: send application/x-ndjson)`);
    }
    if (!Array.isArray(parsed)) throw new BatchRejectedError(400, 'expected a JSON array of events');
    records = parsed;
  } else {
    records = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line));
      } catch (err) {
        records.push(new MalformedLine(`line is not JSON: ${(err as Error).message}`));
      }
      if (records.length > maxEvents) break;
    }
  }
  if (records.length === 0) throw new BatchRejectedError(400, 'empty batch');
  if (records.length > maxEvents) throw new BatchRejectedError(413, `more than ${maxEvents} events in one batch`);
  return records;
}
