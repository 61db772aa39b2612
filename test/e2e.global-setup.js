// Once before the e2e project: the catalog's topics (with their DLQs) and value schemas exist, as
// `npm start` makes them exist, so a fresh stack runs the suite; and every service's SCRAM principal
// with its ACLs, which the e2e tests run the services as. All three commands are idempotent.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function catalogOnTheStack() {
  const root = path.resolve(__dirname, '..');
  for (const script of ['topics:apply', 'schemas:register', 'acl:apply']) {
    execFileSync('npm', ['run', '--silent', script], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
};
