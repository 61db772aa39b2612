import { createHash } from 'node:crypto';
import type { ObjectStore, PutResult } from './object-store';

/**
 * Multipart uploads a caller drives part by part, so an upload survives the process: the caller
 * remembers the upload id (and the parts it finished) durably, and after a crash lists what the store
 * already holds and sends only the missing parts. S3's own multipart API; the file store stages parts
 * in a hidden directory under its root.
 */
export interface ResumableUploads {
  /** Starts an upload of `key` (SSE-KMS like every write) and returns its id. */
  createUpload(key: string, options?: { contentType?: string }): Promise<string>;
  /** Stores one part (numbers from 1; every part but the last at least 5 MiB on S3). */
  uploadPart(key: string, uploadId: string, part: { partNumber: number; body: Uint8Array; sha256Base64?: string }): Promise<UploadedPart>;
  /** The parts the store holds for the upload, by number; `undefined` when the upload is gone (completed or aborted). */
  listParts(key: string, uploadId: string): Promise<UploadedPart[] | undefined>;
  /** Joins the parts into the object (in part-number order). */
  completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult>;
  /** Drops the upload and its parts; an unknown upload is not an error. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /**
   * The sha256 the store computed or kept for the object, when it offers one: the object's own digest, or
   * for a multipart object S3's composite (sha256 of the parts' digests, `-<parts>` suffix). `undefined`
   * means the store keeps none and a caller that must verify reads the object back.
   */
  storedSha256(key: string): Promise<string | undefined>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
  /** Base64 sha256 of the part's bytes, when the caller sent one. */
  sha256Base64?: string;
}

/** Both lake stores implement {@link ResumableUploads}; a test double may not. */
export function supportsResumableUploads(store: ObjectStore): store is ObjectStore & ResumableUploads {
  const candidate = store as Partial<ResumableUploads>;
  return typeof candidate.createUpload === 'function' && typeof candidate.uploadPart === 'function' && typeof candidate.listParts === 'function';
}

/** S3's composite checksum of a multipart object: base64 sha256 over the parts' raw sha256 digests, then `-<count>`. */
export function compositeSha256(partDigestsBase64: readonly string[]): string {
  const joined = Buffer.concat(partDigestsBase64.map((d) => Buffer.from(d, 'base64')));
  return `${createHash('sha256').update(joined).digest('base64')}-${partDigestsBase64.length}`;
}
