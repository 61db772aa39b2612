// npm run infra:synth — writes the CloudFormation template to dist/cdk.out, offline: the stack makes no
// lookups, so no AWS account or credentials are needed. cdk-nag's AwsSolutions checks run first and
// stop the synth on any finding not acknowledged (with its reason) in infra/cdk/lib/nag.ts.
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SecureCartStack } from '../lib/securecart-stack';
import { acknowledgeAcceptedFindings } from '../lib/nag';

const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'dist/cdk.out' });
const stack = new SecureCartStack(app, 'SecureCartPipeline', {
  // Region-specific when set (three AZs); account-agnostic either way.
  env: process.env.CDK_DEFAULT_REGION ? { region: process.env.CDK_DEFAULT_REGION } : undefined,
});
acknowledgeAcceptedFindings(stack);
const nag = new AwsSolutionsChecks(app).validateScope(app);
if (!nag.success) {
  for (const v of nag.violations) console.error(`${v.ruleName}: ${v.description}`);
  console.error(`infra:synth: ${nag.violations.length} cdk-nag finding(s) not acknowledged`);
  process.exit(1);
}
const assembly = app.synth();
console.log(`template: ${assembly.getStackByName(stack.stackName).templateFullPath} (cdk-nag AwsSolutions: no open findings)`);
