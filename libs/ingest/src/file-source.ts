import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { createHash } from 'node:crypto';

/** One regular file of a source, by its `/`-separated path relative to the source root. */
export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Where files come from: a local directory or a remote SFTP directory. */
export interface FileSource {
  /** For logs and the run manifest (never contains a password). */
  readonly description: string;
  /** Every regular file under the root, sorted by path. Symlinks and special files are not followed. */
  list(): Promise<SourceFile[]>;
  /** `length` bytes from `start` (fewer only at the end of the file). */
  readRange(relativePath: string, start: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

function byPath(a: SourceFile, b: SourceFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** A local (or mounted) directory. */
export class LocalDirectorySource implements FileSource {
  readonly description: string;

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.description = `file://${this.root}`;
  }

  async list(): Promise<SourceFile[]> {
    const out: SourceFile[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full, rel);
        else if (entry.isFile()) {
          const stat = await fs.stat(full);
          out.push({ path: rel, size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) });
        }
      }
    };
    await walk(this.root, '');
    return out.sort(byPath);
  }

  async readRange(relativePath: string, start: number, length: number): Promise<Buffer> {
    const handle = await fs.open(path.join(this.root, ...relativePath.split('/')), 'r');
    try {
      const buffer = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {}
}

export interface SftpSourceOptions {
  host: string;
  port: number;
  username: string;
  root: string;
  privateKey?: Buffer;
  password?: string;
  /** Base64 sha256 of the server's host key (as `ssh-keygen -lf` prints after `SHA256:`); unset trusts any key. */
  hostKeySha256?: string;
  readyTimeoutMs?: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** A directory on an SFTP server (ssh2 client), read-only. One connection per run. */
export class SftpDirectorySource implements FileSource {
  readonly description: string;
  private connection?: Promise<{ client: Client; sftp: SFTPWrapper }>;

  constructor(private readonly options: SftpSourceOptions) {
    this.description = `sftp://${options.username}@${options.host}:${options.port}${options.root.startsWith('/') ? '' : '/'}${options.root}`;
  }

  private connect(): Promise<{ client: Client; sftp: SFTPWrapper }> {
    this.connection ??= new Promise((resolve, reject) => {
      const client = new Client();
      const config: ConnectConfig = {
        host: this.options.host,
        port: this.options.port,
        username: this.options.username,
        privateKey: this.options.privateKey,
        password: this.options.password,
        readyTimeout: this.options.readyTimeoutMs ?? 10_000,
        hostVerifier: this.options.hostKeySha256
          ? (key: Buffer) => createHash('sha256').update(key).digest('base64').replace(/=+$/, '') === this.options.hostKeySha256!.replace(/^SHA256:/, '').replace(/=+$/, '')
          : undefined,
      };
      client
        .on('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))))
        .on('error', reject)
        .connect(config);
    });
    this.connection.catch(() => (this.connection = undefined));
    return this.connection;
  }

  private remote(relativePath: string): string {
    return path.posix.join(this.options.root, relativePath);
  }

  async list(): Promise<SourceFile[]> {
    const { sftp } = await this.connect();
    const out: SourceFile[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await new Promise<import('ssh2').FileEntryWithStats[]>((resolve, reject) => sftp.readdir(dir, (err, list) => (err ? reject(err) : resolve(list))));
      for (const entry of entries) {
        if (entry.filename === '.' || entry.filename === '..') continue;
        const rel = prefix ? `${prefix}/${entry.filename}` : entry.filename;
        const type = entry.attrs.mode & S_IFMT;
        if (type === S_IFDIR) await walk(path.posix.join(dir, entry.filename), rel);
        else if (type === S_IFREG) out.push({ path: rel, size: entry.attrs.size, mtimeMs: entry.attrs.mtime * 1000 });
      }
    };
    await walk(this.options.root, '');
    return out.sort(byPath);
  }

  async readRange(relativePath: string, start: number, length: number): Promise<Buffer> {
    const { sftp } = await this.connect();
    if (length === 0) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      sftp
        .createReadStream(this.remote(relativePath), { start, end: start + length - 1 })
        .on('data', (chunk: Buffer) => chunks.push(chunk))
        .on('end', () => resolve())
        .on('error', reject);
    });
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    const connection = await this.connection?.catch(() => undefined);
    connection?.client.end();
    this.connection = undefined;
  }
}

/**
 * The source a location names: `sftp://user@host:port/path` or a local directory (`file:///dir` or a
 * path). SFTP credentials: a private key file, or a password (from the environment, never the URL).
 */
export function openFileSource(location: string, credentials: { privateKeyFile?: string; password?: string; hostKeySha256?: string } = {}): FileSource {
  if (location.startsWith('sftp://')) {
    const url = new URL(location);
    if (!url.username) throw new Error(`${location}: name the user, sftp://user@host/path`);
    if (url.password) throw new Error(`${location}: no password in the URL; use a key file or FILE_INGEST_SFTP_PASSWORD`);
    return new SftpDirectorySource({
      host: url.hostname,
      port: url.port ? Number(url.port) : 22,
      username: decodeURIComponent(url.username),
      root: decodeURIComponent(url.pathname) || '/',
      privateKey: credentials.privateKeyFile ? readFileSync(credentials.privateKeyFile) : undefined,
      password: credentials.password,
      hostKeySha256: credentials.hostKeySha256,
    });
  }
  if (location.startsWith('file://')) return new LocalDirectorySource(new URL(location).pathname);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new Error(`${location}: unsupported source (a directory, file:///dir or sftp://user@host/path)`);
  return new LocalDirectorySource(location);
}
