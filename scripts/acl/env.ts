// npm run acl:env -- <service>   prints the KEY=value lines that make a service use its own local SCRAM
//                                principal (for `node --env-file`, `set -a; source`, a supervisor's env)
// npm run acl:env -- --json      every service's env as one JSON object, for scripts such as run-apps.js
import { localPrincipals, localServiceEnv } from './local-principals';

const arg = process.argv[2];
if (!arg) {
  console.error('usage: npm run acl:env -- <service> | --json');
  process.exit(64);
}
try {
  if (arg === '--json') {
    console.log(JSON.stringify(Object.fromEntries(localPrincipals().map((p) => [p.service, localServiceEnv(p.service)])), null, 2));
  } else {
    for (const [k, v] of Object.entries(localServiceEnv(arg))) console.log(`${k}=${v}`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(64);
}
