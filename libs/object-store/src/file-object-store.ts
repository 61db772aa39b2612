import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
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
import type { ResumableUploads, UploadedPart } from './resumable-upload';

const TEMP_MARK = '.tmp-';
/** Parts of unfinished multipart uploads, one directory per upload id, outside every key. */
const UPLOADS_DIR = '.multipart-uploads';
const UPLOAD_ID = /^[0-9a-f]{32}$/;

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
export class FileObjectStore implements ObjectStore, ResumableUploads {
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
        if (key === UPLOADS_DIR) continue;
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

  private uploadDir(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`invalid upload id: ${JSON.stringify(uploadId)}`);
    return path.join(this.root, UPLOADS_DIR, uploadId);
  }

  private partPath(uploadId: string, partNumber: number): string {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw new Error(`invalid part number ${partNumber}`);
    return path.join(this.uploadDir(uploadId), `part-${String(partNumber).padStart(5, '0')}`);
  }

  async createUpload(key: string): Promise<string> {
    assertValidKey(key);
    const uploadId = randomBytes(16).toString('hex');
    try {
      await fs.mkdir(this.uploadDir(uploadId), { recursive: true });
      await fs.writeFile(path.join(this.uploadDir(uploadId), 'key'), key);
      return uploadId;
    } catch (err) {
      throw this.classify(err, key);
    }
  }

  async uploadPart(key: string, uploadId: string, part: { partNumber: number; body: Uint8Array; sha256Base64?: string }): Promise<UploadedPart> {
    const target = this.partPath(uploadId, part.partNumber);
    const sha256Base64 = createHash('sha256').update(part.body).digest('base64');
    if (part.sha256Base64 && part.sha256Base64 !== sha256Base64) throw new Error(`part ${part.partNumber} of ${key}: sha256 mismatch`);
    if ((await this.uploadKey(uploadId)) !== key) throw new ObjectNotFoundError(`${key} (upload ${uploadId})`);
    const temp = `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    try {
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(part.body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw this.classify(err, key);
    }
    return { partNumber: part.partNumber, etag: sha256Base64, size: part.body.length, sha256Base64 };
  }

  private async uploadKey(uploadId: string): Promise<string | undefined> {
    try {
      return await fs.readFile(path.join(this.uploadDir(uploadId), 'key'), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[] | undefined> {
    if ((await this.uploadKey(uploadId)) !== key) return undefined;
    const parts: UploadedPart[] = [];
    for (const name of (await fs.readdir(this.uploadDir(uploadId))).sort()) {
      const m = /^part-(\d{5})$/.exec(name);
      if (!m) continue;
      const body = await fs.readFile(path.join(this.uploadDir(uploadId), name));
      const sha256Base64 = createHash('sha256').update(body).digest('base64');
      parts.push({ partNumber: Number(m[1]), etag: sha256Base64, size: body.length, sha256Base64 });
    }
    return parts;
  }

  async completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    const target = this.pathOf(key);
    if ((await this.uploadKey(uploadId)) !== key) throw new ObjectNotFoundError(`${key} (upload ${uploadId})`);
    const temp = path.join(path.dirname(target), `.${path.basename(target)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      const handle = await fs.open(temp, 'w');
      try {
        for (const part of [...parts].sort((a, b) => a.partNumber - b.partNumber)) {
          await handle.write(await fs.readFile(this.partPath(uploadId, part.partNumber)));
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
      await fs.rm(this.uploadDir(uploadId), { recursive: true, force: true });
      return {};
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw this.classify(err, key);
    }
  }

  async abortUpload(_key: string, uploadId: string): Promise<void> {
    await fs.rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  async storedSha256(key: string): Promise<string | undefined> {
    // A file keeps no digest: computing it from the bytes on disk is the read-back verification.
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(this.pathOf(key))) hash.update(chunk as Buffer);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new ObjectNotFoundError(key);
      throw this.classify(err, key);
    }
    return hash.digest('base64');
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
