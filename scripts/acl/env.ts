// npm run acl:env -- <service> — prints the KEY=value lines that make a service use its own local
// SCRAM principal (for `node --env-file`, `set -a; source`, or a supervisor's env).
import { localServiceEnv } from './local-principals';

const service = process.argv[2];
if (!service) {
  console.error('usage: npm run acl:env -- <service>');
  process.exit(64);
}
try {
  for (const [k, v] of Object.entries(localServiceEnv(service))) console.log(`${k}=${v}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(64);
}
