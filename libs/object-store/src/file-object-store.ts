import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreUnavailableError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from './object-store';

const TEMP_MARK = '.tmp-';

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** Keys are relative and slash-separated; anything that could escape the root is a programming error. */
export function assertValidKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
}

/**
 * The lake on a local or mounted filesystem (`file:///path`). Writes are atomic: the body goes to a
 * temp file in the same directory, then `rename` (replace) or `link` (exclusive create, the file
 * system's If-None-Match), so a reader or a crash never sees half an object.
 */
export class FileObjectStore implements ObjectStore {
  readonly url: string;
  private readonly root: string;

  constructor(rootUrl: string) {
    this.root = fileURLToPath(rootUrl);
    this.url = pathToFileURL(this.root).toString().replace(/\/?$/, '/');
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    const temp = path.join(dir, `.${path.basename(target)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
    try {
      await fs.mkdir(dir, { recursive: true });
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(body);
        // Durable before it becomes visible: a power loss must not leave a named, empty segment.
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (options.ifNoneMatch) {
        try {
          await fs.link(temp, target);
        } catch (err) {
          if (isErrno(err, 'EEXIST')) throw new ObjectExistsError(key);
          throw err;
        } finally {
          await fs.rm(temp, { force: true });
        }
      } else {
        await fs.rename(temp, target);
      }
      return {};
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw this.classify(err, key);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new ObjectNotFoundError(key);
      throw this.classify(err, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await fs.stat(this.pathOf(key));
      return stat.isFile() ? { key, size: stat.size, lastModified: stat.mtime } : undefined;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw this.classify(err, key);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // The prefix may end inside a name (`raw/t/dt=2026-11-28/hour=0`): walk from its directory part.
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const out: ObjectInfo[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      const dir = dirKey ? this.pathOf(dirKey) : this.root;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return;
        throw this.classify(err, dirKey);
      }
      for (const entry of entries) {
        const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        if (entry.isDirectory()) await walk(key);
        else if (entry.isFile() && !(entry.name.startsWith('.') && entry.name.includes(TEMP_MARK))) {
          const stat = await fs.stat(path.join(dir, entry.name));
          out.push({ key, size: stat.size, lastModified: stat.mtime });
        }
      }
    };
    await walk(baseKey);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        try {
          await fs.unlink(this.pathOf(key));
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw this.classify(err, key);
        }
      }),
    );
  }

  private classify(err: unknown, key: string): Error {
    if (err instanceof ObjectExistsError || err instanceof ObjectNotFoundError) return err;
    // A full or read-only disk, or a vanished mount, is the deployment's problem: pause, never drop data.
    if (isErrno(err, 'ENOSPC', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE')) {
      return new ObjectStoreUnavailableError(`file store failed on ${key}: ${(err as Error).message}`, err);
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}
