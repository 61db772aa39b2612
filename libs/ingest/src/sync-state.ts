import { createHash } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore, type UploadedPart } from '@app/object-store';

/** What the last successful copy of a source file was: a later run compares size and mtime, then sha256. */
export interface SyncedFile {
  size: number;
  mtimeMs: number;
  sha256: string;
  key: string;
  copiedAt: string;
}

export interface SyncState {
  version: 1;
  source: string;
  updatedAt?: string;
  files: Record<string, SyncedFile>;
}

/** A multipart upload in flight, saved after every part so a crashed run resumes it. */
export interface PendingUpload {
  path: string;
  key: string;
  uploadId: string;
  size: number;
  mtimeMs: number;
  partSizeBytes: number;
  parts: UploadedPart[];
  startedAt: string;
}

/** Lake prefix of a source's copies, state and run manifests. */
export function sourcePrefix(source: string): string {
  return `files/${source}/`;
}

export function stateKey(source: string): string {
  return `${sourcePrefix(source)}_state/files.json`;
}

export function uploadsPrefix(source: string): string {
  return `${sourcePrefix(source)}_state/uploads/`;
}

export function pendingUploadKey(source: string, relativePath: string): string {
  return `${uploadsPrefix(source)}${createHash('sha1').update(relativePath).digest('hex')}.json`;
}

/** The state lives in the lake itself, so it is as durable as the copies and moves with the lake. */
export async function loadSyncState(store: ObjectStore, source: string): Promise<SyncState> {
  try {
    const state = JSON.parse((await store.get(stateKey(source))).toString('utf8')) as SyncState;
    if (state.version !== 1 || typeof state.files !== 'object') throw new Error(`unsupported sync state in ${stateKey(source)}`);
    return state;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return { version: 1, source, files: {} };
    throw err;
  }
}

export async function saveSyncState(store: ObjectStore, state: SyncState, at: Date): Promise<void> {
  state.updatedAt = at.toISOString();
  await store.put(stateKey(state.source), Buffer.from(JSON.stringify(state)), { contentType: 'application/json' });
}

export async function loadPendingUploads(store: ObjectStore, source: string): Promise<Map<string, { objectKey: string; upload: PendingUpload }>> {
  const out = new Map<string, { objectKey: string; upload: PendingUpload }>();
  for (const info of await store.list(uploadsPrefix(source))) {
    try {
      const upload = JSON.parse((await store.get(info.key)).toString('utf8')) as PendingUpload;
      out.set(upload.path, { objectKey: info.key, upload });
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  return out;
}
