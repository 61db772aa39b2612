// npm run acl:apply — one SCRAM user per service on the local SASL listener (127.0.0.1:9096) and exactly
// the ACLs libs/contracts/src/access.ts defines; idempotent, removes ACLs the data no longer defines.
import { applyAccess } from './access-apply';

applyAccess({ log: (line) => console.log(line) }).catch((err: Error) => {
  console.error(`acl:apply failed: ${err.message}`);
  process.exit(1);
});
