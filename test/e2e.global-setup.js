// Once before the e2e project: the catalog's topics (with their DLQs) and value schemas exist, as
// `npm start` makes them exist, so a fresh stack runs the suite. Both commands are idempotent.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function catalogOnTheStack() {
  const root = path.resolve(__dirname, '..');
  for (const script of ['topics:apply', 'schemas:register']) {
    execFileSync('npm', ['run', '--silent', script], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
};
