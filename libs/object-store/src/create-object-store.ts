import type { ObjectStoreConfig } from '@app/config';
import { FileObjectStore } from './file-object-store';
import type { ObjectStore } from './object-store';
import { objectStoreDefaults, type ObjectStoreOptions } from './object-store-defaults';
import { S3ObjectStore } from './s3-object-store';

/** What `LAKE_URL` names: an S3 bucket and key prefix, or a directory. */
export type LakeLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; url: string };

/**
 * Parses `s3://bucket/prefix` or `file:///path`. The S3 prefix, when present, always ends with `/`.
 * Throws an Error naming the problem (callers turn it into a ConfigError for `LAKE_URL`).
 */
export function parseLakeUrl(lakeUrl: string): LakeLocation {
  let url: URL;
  try {
    url = new URL(lakeUrl);
  } catch {
    throw new Error('expected s3://bucket/prefix or file:///path');
  }
  if (url.protocol === 's3:') {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname)) throw new Error('not a valid S3 bucket name');
    const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
    return { kind: 's3', bucket: url.hostname, prefix: path && !path.endsWith('/') ? `${path}/` : path };
  }
  if (url.protocol === 'file:') {
    if (url.host) throw new Error('file URLs take three slashes: file:///absolute/path');
    return { kind: 'file', url: url.toString() };
  }
  throw new Error(`unsupported scheme ${url.protocol} (expected s3: or file:)`);
}

/**
 * The object store `LAKE_URL` names: `s3://bucket/prefix` (credentials, endpoint, region and KMS key
 * from the service's object-store config) or `file:///path`.
 */
export function createObjectStore(
  lakeUrl: string,
  objectStoreConfig: ObjectStoreConfig,
  options: Partial<ObjectStoreOptions> = {},
): ObjectStore {
  const location = parseLakeUrl(lakeUrl);
  if (location.kind === 'file') return new FileObjectStore(location.url);
  return new S3ObjectStore(location.bucket, location.prefix, objectStoreConfig, { ...objectStoreDefaults, ...options });
}
