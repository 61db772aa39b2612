import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileObjectStore, type PutOptions, type PutResult } from '@app/object-store';
import { LocalDirectorySource } from './file-source';
import { syncSource, type SyncSourceSpec } from './file-sync';
import { loadSyncState } from './sync-state';

/** A store whose disk flips a byte of the next write: what verification after upload exists for. */
class CorruptingStore extends FileObjectStore {
  corruptNext = false;
  override async put(key: string, body: Uint8Array, options?: PutOptions): Promise<PutResult> {
    if (this.corruptNext && !key.includes('/_state/') && !key.includes('/_manifest-')) {
      this.corruptNext = false;
      const bad = Buffer.from(body);
      bad[0] ^= 0xff;
      return super.put(key, bad, options);
    }
    return super.put(key, body, options);
  }
}

describe('syncSource verification and failures', () => {
  const work = mkdtempSync(join(tmpdir(), 'file-sync-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const spec: SyncSourceSpec = { name: 'src', include: [], exclude: [], inventoryPatterns: ['**/inventory*.csv'] };

  it('fails a file whose stored bytes differ, removes the bad copy, and copies it on the next run', async () => {
    mkdirSync(join(work, 'in'), { recursive: true });
    writeFileSync(join(work, 'in', 'a.txt'), 'alpha');
    const store = new CorruptingStore(pathToFileURL(join(work, 'lake')).toString());
    store.corruptNext = true;
    const first = await syncSource(spec, { store, source: new LocalDirectorySource(join(work, 'in')) });
    expect(first).toMatchObject({ copied: 0, failed: 1 });
    expect(first.files[0].error).toMatch(/checksum mismatch after upload/);
    expect((await store.list('files/src/')).filter((o) => o.key.endsWith('a.txt'))).toEqual([]);
    expect((await loadSyncState(store, 'src')).files['a.txt']).toBeUndefined();

    const second = await syncSource(spec, { store, source: new LocalDirectorySource(join(work, 'in')) });
    expect(second).toMatchObject({ copied: 1, failed: 0 });
    expect((await store.get(second.files[0].key!)).toString()).toBe('alpha');
  });

  it('fails an inventory file whose counts could not be published, so the next run sends them', async () => {
    const dir = join(work, 'counts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inventory.csv'), 'sku,warehouseId,onHand\nS-1,W-1,3\n');
    const store = new FileObjectStore(pathToFileURL(join(work, 'lake2')).toString());
    const sent: string[] = [];
    let down = true;
    const stockCounts = {
      publish: async (commands: readonly { sku: string }[]) => {
        if (down) throw new Error('broker down');
        sent.push(...commands.map((c) => c.sku));
      },
      close: async () => undefined,
    };
    const first = await syncSource({ ...spec, name: 'counts' }, { store, source: new LocalDirectorySource(dir), stockCounts });
    expect(first).toMatchObject({ copied: 0, failed: 1, files: [{ path: 'inventory.csv', error: 'broker down' }] });
    down = false;
    const second = await syncSource({ ...spec, name: 'counts' }, { store, source: new LocalDirectorySource(dir), stockCounts });
    expect(second).toMatchObject({ copied: 1, failed: 0, stockCounts: { published: 1 } });
    expect(sent).toEqual(['S-1']);
  });

  it('refuses an invalid source name before touching the lake', async () => {
    const store = new FileObjectStore(pathToFileURL(join(work, 'lake3')).toString());
    await expect(syncSource({ ...spec, name: '../x' }, { store, source: new LocalDirectorySource(work) })).rejects.toThrow(/invalid source name/);
  });
});
