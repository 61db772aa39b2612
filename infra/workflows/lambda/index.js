// Lambda entry (CMD infra/workflows/lambda/index.<handler>): the TypeScript sources with their @app/*
// paths, as the npm scripts run them (ts-node, transpile only).
'use strict';
const path = require('node:path');
process.env.TS_NODE_PROJECT ??= path.join(__dirname, '../../../tsconfig.json');
require('ts-node').register({ transpileOnly: true });
require('tsconfig-paths/register');
module.exports = require('./orders-daily-handlers.ts');
