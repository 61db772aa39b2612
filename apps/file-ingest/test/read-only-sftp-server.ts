/**
 * A small read-only SFTP server over a directory (ssh2), the remote side of SFTP sources in tests:
 * one user and public key, listing, stat and reads, nothing else.
 */
import { promises as fs, type Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Server, utils, type Attributes } from 'ssh2';

const { STATUS_CODE, OPEN_MODE } = utils.sftp;

export async function startReadOnlySftp(options: { root: string; user: string; publicKey: string; hostKey: Buffer | string }): Promise<{ port: number; stop: () => Promise<void> }> {
  const allowed = utils.parseKey(options.publicKey);
  if (allowed instanceof Error) throw allowed;
  const key = Array.isArray(allowed) ? allowed[0] : allowed;
  const attrsOf = (s: Stats): Attributes => ({ mode: s.mode, uid: 0, gid: 0, size: s.size, atime: Math.floor(s.atimeMs / 1000), mtime: Math.floor(s.mtimeMs / 1000) });
  const server = new Server({ hostKeys: [options.hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== options.user || ctx.key.algo !== key.type || !key.getPublicSSH().equals(ctx.key.data)) return ctx.reject(['publickey']);
      if (ctx.signature && (!ctx.blob || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const local = (p: string) => path.join(options.root, ...p.split('/').filter((s) => s && s !== '.' && s !== '..'));
          const handles = new Map<number, { file?: import('node:fs/promises').FileHandle; dir?: string; listed?: boolean }>();
          let next = 0;
          const handle = (entry: { file?: import('node:fs/promises').FileHandle; dir?: string }) => {
            const id = Buffer.alloc(4);
            id.writeUInt32BE(next);
            handles.set(next++, entry);
            return id;
          };
          const stat = async (reqId: number, p: string) => {
            try {
              sftp.attrs(reqId, attrsOf(await fs.stat(local(p))));
            } catch {
              sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
            }
          };
          sftp.on('end', () => sftp.end());
          sftp.on('REALPATH', (reqId, p) => sftp.name(reqId, [{ filename: path.posix.resolve('/', p), longname: '', attrs: {} as Attributes }]));
          sftp.on('STAT', stat);
          sftp.on('LSTAT', stat);
          sftp.on('OPENDIR', (reqId, p) => sftp.handle(reqId, handle({ dir: local(p) })));
          sftp.on('READDIR', async (reqId, id) => {
            const entry = handles.get(id.readUInt32BE(0));
            if (!entry?.dir || entry.listed) return sftp.status(reqId, STATUS_CODE.EOF);
            entry.listed = true;
            const names = await fs.readdir(entry.dir);
            const out = await Promise.all(names.map(async (n) => ({ filename: n, longname: n, attrs: attrsOf(await fs.stat(path.join(entry.dir!, n))) })));
            if (out.length === 0) sftp.status(reqId, STATUS_CODE.EOF);
            else sftp.name(reqId, out);
          });
          sftp.on('OPEN', async (reqId, p, flags) => {
            if (flags & OPEN_MODE.WRITE) return sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED);
            try {
              sftp.handle(reqId, handle({ file: await fs.open(local(p), 'r') }));
            } catch {
              sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
            }
          });
          sftp.on('READ', async (reqId, id, offset, length) => {
            const file = handles.get(id.readUInt32BE(0))?.file;
            if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
            const buffer = Buffer.alloc(length);
            const { bytesRead } = await file.read(buffer, 0, length, offset);
            if (bytesRead === 0) sftp.status(reqId, STATUS_CODE.EOF);
            else sftp.data(reqId, buffer.subarray(0, bytesRead));
          });
          sftp.on('FSTAT', async (reqId, id) => {
            const file = handles.get(id.readUInt32BE(0))?.file;
            if (!file) return sftp.status(reqId, STATUS_CODE.FAILURE);
            sftp.attrs(reqId, attrsOf(await file.stat()));
          });
          sftp.on('CLOSE', async (reqId, id) => {
            const entry = handles.get(id.readUInt32BE(0));
            handles.delete(id.readUInt32BE(0));
            await entry?.file?.close();
            sftp.status(reqId, STATUS_CODE.OK);
          });
        }),
      ),
    );
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
