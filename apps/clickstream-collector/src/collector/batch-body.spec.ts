import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { batchFormatOf, BatchRejectedError, MalformedLine, parseBatch, readBatchBody } from './batch-body';

function request(body: Buffer | string, headers: Record<string, string> = {}): Readable & { headers: Record<string, string> } {
  const stream = Readable.from([Buffer.from(body)]) as Readable & { headers: Record<string, string> };
  stream.headers = headers;
  return stream;
}

async function rejection(run: () => Promise<unknown> | unknown): Promise<BatchRejectedError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(BatchRejectedError);
    return err as BatchRejectedError;
  }
  throw new Error('expected a BatchRejectedError');
}

describe('batch body', () => {
  it('reads plain and gzip bodies', async () => {
    expect((await readBatchBody(request('[1]'), 100)).toString()).toBe('[1]');
    expect((await readBatchBody(request(gzipSync('[1,2]'), { 'content-encoding': 'gzip' }), 100)).toString()).toBe('[1,2]');
  });

  it('counts the limit after gzip, and refuses a declared length over it unread', async () => {
    const bomb = gzipSync(Buffer.alloc(10_000, 0x20));
    expect(bomb.length).toBeLessThan(1_000);
    expect((await rejection(() => readBatchBody(request(bomb, { 'content-encoding': 'gzip' }), 5_000))).status).toBe(413);
    expect((await rejection(() => readBatchBody(request('x', { 'content-length': '6000' }), 5_000))).status).toBe(413);
    expect((await rejection(() => readBatchBody(request('not gzip', { 'content-encoding': 'gzip' }), 5_000))).status).toBe(400);
    expect((await rejection(() => readBatchBody(request('x', { 'content-encoding': 'br' }), 5_000))).status).toBe(415);
  });

  it('knows the formats, sniffing text/plain (what sendBeacon sends)', async () => {
    expect(batchFormatOf('application/json; charset=utf-8')).toBe('json');
    expect(batchFormatOf('application/x-ndjson')).toBe('ndjson');
    expect(batchFormatOf('text/plain;charset=UTF-8')).toBe('sniff');
    expect((await rejection(() => batchFormatOf('application/xml'))).status).toBe(415);
  });

  it('parses an array, or NDJSON where a bad line fails alone', () => {
    expect(parseBatch(Buffer.from(' [{"a":1},2]'), 'sniff', 10)).toEqual([{ a: 1 }, 2]);
    const records = parseBatch(Buffer.from('{"a":1}\n\n{bad\n{"b":2}\n'), 'sniff', 10);
    expect(records).toHaveLength(3);
    expect(records[1]).toBeInstanceOf(MalformedLine);
    expect(records[2]).toEqual({ b: 2 });
  });

  it('refuses empty batches, non-arrays, bad JSON arrays and too many events', async () => {
    expect((await rejection(() => parseBatch(Buffer.from('  '), 'json', 10))).status).toBe(400);
    expect((await rejection(() => parseBatch(Buffer.from('{"a":1}'), 'json', 10))).status).toBe(400);
    expect((await rejection(() => parseBatch(Buffer.from('[1,'), 'json', 10))).status).toBe(400);
    expect((await rejection(() => parseBatch(Buffer.from('[1,2,3]'), 'json', 2))).status).toBe(413);
    expect((await rejection(() => parseBatch(Buffer.from('1\n2\n3\n'), 'ndjson', 2))).status).toBe(413);
  });
});

describe('batch body: a client that goes away', () => {
  it('is a rejected batch, not a server fault', async () => {
    const stream = new Readable({ read() {} }) as Readable & { headers: Record<string, string> };
    stream.headers = {};
    const reading = readBatchBody(stream, 1_000);
    stream.push('[');
    stream.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await expect(reading).rejects.toMatchObject({ status: 400, message: 'request aborted by the client' });
  });
});
