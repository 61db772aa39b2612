#!/usr/bin/env node
// Runs every built service side by side for `npm start`: one child per app, its JSON log lines passed
// through, SIGINT/SIGTERM forwarded so consumers leave their groups cleanly.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const APPS = [
  { name: 'order-service', port: 3000 },
  { name: 'inventory-service', port: 3001 },
  { name: 'fraud-service', port: 3002 },
  { name: 's3-sink', port: 3003 },
];

const children = APPS.map(({ name, port }) => {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps', name, 'main.js')], {
    env: { ...process.env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[run-apps] ${name} exited (${signal ?? code}); stopping the others`);
      stop(code || 1);
    }
  });
  return child;
});

let stopping = false;
function stop(exitCode) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  let pending = children.filter((c) => c.exitCode === null).length;
  if (pending === 0) process.exit(exitCode);
  for (const child of children) child.once('exit', () => --pending === 0 && process.exit(exitCode));
  setTimeout(() => process.exit(exitCode), 15_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
console.error(`[run-apps] started ${APPS.map((a) => `${a.name} on :${a.port}`).join(', ')}; Ctrl-C stops them`);
