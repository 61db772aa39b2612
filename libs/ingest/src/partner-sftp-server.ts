import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, existsSync, mkdirSync, promises as fs, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Server, utils, type Attributes, type AuthContext, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';
import type { ObjectStore } from '@app/object-store';
import { storeLocalFile } from './local-file-upload';

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** What a stored upload announces (the `partners.file-received.v1` event body, envelope aside). */
export interface PartnerFileStored {
  partner: string;
  fileName: string;
  lakeKey: string;
  sizeBytes: number;
  sha256: string;
  sessionId: string;
  storedAt: Date;
}

export type SftpRefusal = 'unknown-partner' | 'unknown-key' | 'auth-method' | 'path-traversal' | 'symlink-out-of-home' | 'oversized' | 'read-only-upload' | 'not-allowed';

export interface PartnerSftpLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface PartnerSftpOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  hostKey: Buffer | string;
  /** Public keys per partner, read on every login (keys can be added or revoked without a restart). */
  partnerKeys: () => Map<string, ParsedKey[]>;
  /** Each partner's home is `<homesDir>/<partner>/`: uploads are staged there until they are stored. */
  homesDir: string;
  maxFileBytes: number;
  /** Uploads from this size are stored by multipart, read part by part (default 16 MiB). */
  multipartThresholdBytes?: number;
  /** Multipart part size (default 8 MiB; S3's minimum is 5 MiB). */
  partSizeBytes?: number;
  store: ObjectStore;
  /** Publishes the file-received event; the upload's CLOSE succeeds only after it did. */
  announce: (file: PartnerFileStored) => Promise<void>;
  log: PartnerSftpLog;
  now?: () => Date;
}

/** A partner is its login name and its lake folder: lowercase letters, digits, . _ - (at most 64). */
export const PARTNER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `<partner>.pub` files (authorized_keys lines) in a directory, plus `partner:ssh-ed25519 AAAA…` entries. */
export function loadPartnerKeys(keysDir: string | undefined, inline: string | undefined): Map<string, ParsedKey[]> {
  const out = new Map<string, ParsedKey[]>();
  const add = (partner: string, line: string) => {
    const text = line.trim();
    if (!text || text.startsWith('#') || !PARTNER_NAME.test(partner)) return;
    const parsed = utils.parseKey(text);
    if (parsed instanceof Error) return;
    const keys = Array.isArray(parsed) ? parsed : [parsed];
    out.set(partner, [...(out.get(partner) ?? []), ...keys]);
  };
  if (keysDir && existsSync(keysDir)) {
    for (const name of readdirSync(keysDir)) {
      if (!name.endsWith('.pub')) continue;
      const partner = name.slice(0, -'.pub'.length);
      for (const line of readFileSync(path.join(keysDir, name), 'utf8').split('\n')) add(partner, line);
    }
  }
  for (const entry of (inline ?? '').split(/[;\n]/)) {
    const colon = entry.indexOf(':');
    if (colon > 0) add(entry.slice(0, colon).trim(), entry.slice(colon + 1));
  }
  return out;
}

/** The host key at `file`, generated (ed25519, mode 0600) when absent: clients pin it after the first login. */
export function ensureHostKey(file: string): Buffer {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const pair = utils.generateKeyPairSync('ed25519');
    writeFileSync(file, pair.private, { mode: 0o600 });
    writeFileSync(`${file}.pub`, pair.public);
  }
  return readFileSync(file);
}

class Refused extends Error {
  constructor(
    readonly reason: SftpRefusal,
    message: string,
    readonly status: number = STATUS_CODE.PERMISSION_DENIED,
  ) {
    super(message);
  }
}

interface OpenUpload {
  kind: 'file';
  virtualPath: string;
  realPath: string;
  handle: import('node:fs/promises').FileHandle;
  size: number;
  refused?: Refused;
}

interface OpenDir {
  kind: 'dir';
  realPath: string;
  done: boolean;
}

/**
 * The partner drop (the Transfer Family role) on the `ssh2` server: each partner logs in with its own
 * public key as itself, sees only its home (`/` is the home; `..` above it, and symlinks leading out of
 * it, are refused) and may only upload: reads, renames, removes and links are refused. On CLOSE of an
 * upload the file is hashed, stored under `partners/<partner>/dt=YYYY-MM-DD/<path>` (SSE-KMS, sha256
 * checked by the store), announced, and removed from the home; CLOSE answers OK only then. Every
 * refusal is logged with the partner, path and reason.
 */
export class PartnerSftpServer {
  private server?: Server;
  private readonly connections = new Set<Connection>();
  private readonly now: () => Date;

  constructor(private readonly options: PartnerSftpOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<number> {
    mkdirSync(this.options.homesDir, { recursive: true });
    const server = new Server({ hostKeys: [this.options.hostKey] }, (client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.end();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private refuse(partner: string, reason: SftpRefusal, detail: Record<string, unknown>): void {
    this.options.log.warn('sftp refused', { partner, reason, ...detail });
  }

  private onClient(client: Connection): void {
    this.connections.add(client);
    const sessionId = randomUUID();
    let partner = '';
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method !== 'publickey') {
        if (ctx.method !== 'none') this.refuse(ctx.username, 'auth-method', { method: ctx.method });
        return ctx.reject(['publickey']);
      }
      const keys = PARTNER_NAME.test(ctx.username) ? this.options.partnerKeys().get(ctx.username) : undefined;
      if (!keys) {
        this.refuse(ctx.username, 'unknown-partner', { sessionId });
        return ctx.reject(['publickey']);
      }
      const key = keys.find((k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
      if (!key) {
        this.refuse(ctx.username, 'unknown-key', { sessionId, keyAlgo: ctx.key.algo, keySha256: createHash('sha256').update(ctx.key.data).digest('base64') });
        return ctx.reject(['publickey']);
      }
      // Without a signature the client only asks whether the key would do (RFC 4252 §7).
      if (!ctx.signature) return ctx.accept();
      if (!ctx.blob || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        this.refuse(ctx.username, 'unknown-key', { sessionId, reason: 'bad signature' });
        return ctx.reject(['publickey']);
      }
      partner = ctx.username;
      ctx.accept();
    });
    client.on('ready', () => {
      this.options.log.info('partner connected', { partner, sessionId });
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => this.serve(acceptSftp(), partner, sessionId));
        // Only the sftp subsystem: shells and commands are not offered.
        session.on('exec', (_accept, reject) => reject?.());
        session.on('shell', (_accept, reject) => reject?.());
        session.on('pty', (_accept, reject) => reject?.());
      });
    });
    client.on('error', (err) => this.options.log.warn('sftp connection error', { partner, sessionId, error: err.message }));
    client.on('close', () => this.connections.delete(client));
  }

  private serve(sftp: SFTPWrapper, partner: string, sessionId: string): void {
    const home = path.join(this.options.homesDir, partner);
    mkdirSync(home, { recursive: true });
    const handles = new Map<string, OpenUpload | OpenDir>();
    let nextHandle = 0;
    const newHandle = (entry: OpenUpload | OpenDir) => {
      const id = Buffer.alloc(4);
      id.writeUInt32BE(nextHandle++);
      handles.set(id.toString('hex'), entry);
      return id;
    };

    /** `/`-rooted virtual path → normalized virtual path; `..` above the home is refused. */
    const virtual = (requested: string): string => {
      const parts: string[] = [];
      for (const segment of requested.split('/')) {
        if (segment === '' || segment === '.') continue;
        if (segment === '..') {
          if (parts.length === 0) throw new Refused('path-traversal', `path leaves the home: ${requested}`);
          parts.pop();
        } else parts.push(segment);
      }
      return `/${parts.join('/')}`;
    };

    /** Real path inside the home; every existing component must resolve inside it (no symlink out). */
    const real = async (virtualPath: string): Promise<string> => {
      const target = path.join(home, ...virtualPath.split('/').filter(Boolean));
      const realHome = await fs.realpath(home);
      let probe = target;
      for (;;) {
        try {
          const resolved = await fs.realpath(probe);
          if (resolved !== realHome && !resolved.startsWith(realHome + path.sep)) throw new Refused('symlink-out-of-home', `${virtualPath} resolves outside the home`);
          break;
        } catch (err) {
          if (err instanceof Refused) throw err;
          const parent = path.dirname(probe);
          if (parent === probe || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          probe = parent;
        }
      }
      return target;
    };

    const fail = (reqId: number, op: string, requested: string, err: unknown) => {
      if (err instanceof Refused) {
        this.refuse(partner, err.reason, { sessionId, op, path: requested, detail: err.message });
        return sftp.status(reqId, err.status, err.message);
      }
      const code = (err as NodeJS.ErrnoException)?.code;
      if (code === 'ENOENT') return sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE, 'no such file');
      this.options.log.warn('sftp request failed', { partner, sessionId, op, path: requested, error: (err as Error)?.message });
      sftp.status(reqId, STATUS_CODE.FAILURE, 'request failed');
    };

    const attrsOf = (stat: import('node:fs').Stats): Attributes => ({
      mode: stat.mode,
      uid: 0,
      gid: 0,
      size: stat.size,
      atime: Math.floor(stat.atimeMs / 1000),
      mtime: Math.floor(stat.mtimeMs / 1000),
    });

    const notAllowed = (op: string) => (reqId: number, requested: string) => {
      this.refuse(partner, 'not-allowed', { sessionId, op, path: requested });
      sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, `${op} is not allowed: this drop only takes uploads`);
    };

    sftp.on('REALPATH', (reqId, requested) => {
      try {
        sftp.name(reqId, [{ filename: virtual(requested.startsWith('/') ? requested : `/${requested}`), longname: '', attrs: {} as Attributes }]);
      } catch (err) {
        fail(reqId, 'REALPATH', requested, err);
      }
    });

    const stat = (op: string) => async (reqId: number, requested: string) => {
      try {
        sftp.attrs(reqId, attrsOf(await fs.stat(await real(virtual(requested)))));
      } catch (err) {
        fail(reqId, op, requested, err);
      }
    };
    sftp.on('STAT', stat('STAT'));
    sftp.on('LSTAT', stat('LSTAT'));

    sftp.on('MKDIR', async (reqId, requested) => {
      try {
        await fs.mkdir(await real(virtual(requested)));
        sftp.status(reqId, STATUS_CODE.OK);
      } catch (err) {
        fail(reqId, 'MKDIR', requested, err);
      }
    });

    sftp.on('OPENDIR', async (reqId, requested) => {
      try {
        const realPath = await real(virtual(requested));
        if (!(await fs.stat(realPath)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOENT' });
        sftp.handle(reqId, newHandle({ kind: 'dir', realPath, done: false }));
      } catch (err) {
        fail(reqId, 'OPENDIR', requested, err);
      }
    });

    sftp.on('READDIR', async (reqId, id) => {
      const dir = handles.get(id.toString('hex'));
      if (!dir || dir.kind !== 'dir') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      if (dir.done) return sftp.status(reqId, STATUS_CODE.EOF);
      dir.done = true;
      try {
        const entries = await fs.readdir(dir.realPath, { withFileTypes: true });
        const names = [];
        for (const e of entries.filter((x) => x.isFile() || x.isDirectory())) {
          const st = await fs.stat(path.join(dir.realPath, e.name));
          names.push({ filename: e.name, longname: `${e.isDirectory() ? 'd' : '-'}rw------- 1 ${partner} ${partner} ${st.size} ${e.name}`, attrs: attrsOf(st) });
        }
        if (names.length === 0) return sftp.status(reqId, STATUS_CODE.EOF);
        sftp.name(reqId, names);
      } catch (err) {
        fail(reqId, 'READDIR', dir.realPath, err);
      }
    });

    sftp.on('OPEN', async (reqId, requested, flags) => {
      try {
        const virtualPath = virtual(requested);
        if (flags & OPEN_MODE.READ || !(flags & OPEN_MODE.WRITE)) throw new Refused('read-only-upload', `${virtualPath}: files can only be uploaded, not read`);
        if (virtualPath === '/') throw new Refused('not-allowed', 'cannot write the home itself');
        const realPath = await real(virtualPath);
        const existing = await fs.lstat(realPath).catch(() => undefined);
        // A link is never written through (a dangling one would create its target anywhere).
        if (existing?.isSymbolicLink()) throw new Refused('symlink-out-of-home', `${virtualPath} is a symlink`);
        if (existing && !existing.isFile()) throw new Refused('not-allowed', `${virtualPath} is not a regular file`);
        const handle = await fs.open(realPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o600);
        sftp.handle(reqId, newHandle({ kind: 'file', virtualPath, realPath, handle, size: 0 }));
      } catch (err) {
        fail(reqId, 'OPEN', requested, err);
      }
    });

    sftp.on('WRITE', async (reqId, id, offset, data) => {
      const upload = handles.get(id.toString('hex'));
      if (!upload || upload.kind !== 'file') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      if (upload.refused) return sftp.status(reqId, upload.refused.status, upload.refused.message);
      if (offset + data.length > this.options.maxFileBytes) {
        upload.refused = new Refused('oversized', `${upload.virtualPath} exceeds the ${this.options.maxFileBytes}-byte limit`, STATUS_CODE.FAILURE);
        this.refuse(partner, 'oversized', { sessionId, op: 'WRITE', path: upload.virtualPath, limit: this.options.maxFileBytes });
        await upload.handle.truncate(0).catch(() => undefined);
        return sftp.status(reqId, upload.refused.status, upload.refused.message);
      }
      try {
        await upload.handle.write(data, 0, data.length, offset);
        upload.size = Math.max(upload.size, offset + data.length);
        sftp.status(reqId, STATUS_CODE.OK);
      } catch (err) {
        fail(reqId, 'WRITE', upload.virtualPath, err);
      }
    });

    sftp.on('FSTAT', async (reqId, id) => {
      const upload = handles.get(id.toString('hex'));
      if (!upload || upload.kind !== 'file') return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      sftp.attrs(reqId, attrsOf(await upload.handle.stat()));
    });
    // Clients set times and modes after an upload (`put -p`); harmless here, and nothing is changed.
    sftp.on('FSETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));
    sftp.on('SETSTAT', (reqId) => sftp.status(reqId, STATUS_CODE.OK));

    sftp.on('CLOSE', async (reqId, id) => {
      const key = id.toString('hex');
      const entry = handles.get(key);
      handles.delete(key);
      if (!entry) return sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      if (entry.kind === 'dir') return sftp.status(reqId, STATUS_CODE.OK);
      await entry.handle.close().catch(() => undefined);
      if (entry.refused) {
        await fs.rm(entry.realPath, { force: true });
        return sftp.status(reqId, entry.refused.status, entry.refused.message);
      }
      try {
        const stored = await this.storeUpload(partner, sessionId, entry);
        this.options.log.info('partner file stored', { ...stored, storedAt: stored.storedAt.toISOString() });
        sftp.status(reqId, STATUS_CODE.OK);
      } catch (err) {
        this.options.log.warn('partner file not stored', { partner, sessionId, path: entry.virtualPath, error: (err as Error)?.message });
        sftp.status(reqId, STATUS_CODE.FAILURE, 'the file could not be stored; upload it again');
      }
    });

    sftp.on('READ', (reqId, id) => {
      this.refuse(partner, 'read-only-upload', { sessionId, op: 'READ', handle: id.toString('hex') });
      sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, 'files can only be uploaded, not read');
    });
    sftp.on('REMOVE', notAllowed('REMOVE'));
    sftp.on('RMDIR', notAllowed('RMDIR'));
    sftp.on('READLINK', notAllowed('READLINK'));
    sftp.on('RENAME', (reqId, oldPath) => notAllowed('RENAME')(reqId, oldPath));
    sftp.on('SYMLINK', (reqId, target, link) => notAllowed('SYMLINK')(reqId, `${link} -> ${target}`));
    sftp.on('EXTENDED', (reqId) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED));
    // The client ended its side: close ours too, or OpenSSH's sftp waits for the channel forever.
    sftp.on('end', () => sftp.end());
    sftp.on('close', async () => {
      for (const entry of handles.values()) {
        if (entry.kind === 'file') {
          // An upload the client never closed is incomplete: not stored, not kept.
          await entry.handle.close().catch(() => undefined);
          await fs.rm(entry.realPath, { force: true }).catch(() => undefined);
        }
      }
      handles.clear();
    });
  }

  private async storeUpload(partner: string, sessionId: string, upload: OpenUpload): Promise<PartnerFileStored & { parts?: number }> {
    const storedAt = this.now();
    const lakeKey = `partners/${partner}/dt=${storedAt.toISOString().slice(0, 10)}${upload.virtualPath}`;
    // Streamed from the staged file (multipart above the threshold): memory is one part, whatever the size.
    const file = await storeLocalFile(this.options.store, lakeKey, upload.realPath, {
      multipartThresholdBytes: this.options.multipartThresholdBytes,
      partSizeBytes: this.options.partSizeBytes,
      contentType: 'application/octet-stream',
    });
    const stored: PartnerFileStored = {
      partner,
      fileName: upload.virtualPath.slice(1),
      lakeKey,
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
      sessionId,
      storedAt,
    };
    await this.options.announce(stored);
    await fs.rm(upload.realPath, { force: true });
    return { ...stored, parts: file.parts };
  }
}
