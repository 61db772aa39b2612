import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { serviceAccess, servicePrefix } from '@app/contracts';
import type { SecureCartStack } from './securecart-stack';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A kind of finding we accept, recognised by its id, and why. */
interface AcceptedFinding {
  readonly id: RegExp;
  readonly reason: string;
}

/**
 * The IAM5 (wildcard) findings the access data produces on purpose: a service's own `<service>.`
 * prefix on topics, groups and transactional ids (its internal topics, extra groups and per-task
 * transactional ids, whose names are only known at run time), and its own lake key prefixes.
 * Every catalog topic and main group is an exact ARN; nothing else may be a wildcard.
 */
function acceptedWildcards(): AcceptedFinding[] {
  return serviceAccess.flatMap((access) => [
    {
      id: new RegExp(`^AwsSolutions-IAM5\\[Resource::arn:<AWS::Partition>:kafka:.*:(topic|group|transactional-id)/.*/${escape(servicePrefix(access.service))}\\*\\]$`),
      reason: `${access.service} owns every name under "${servicePrefix(access.service)}" by platform convention (internal topics, extra groups, transactional ids).`,
    },
    ...access.lakePrefixes.map((prefix) => ({
      id: new RegExp(`^AwsSolutions-IAM5\\[Resource::<Lake[A-Za-z0-9]+\\.Arn>/${escape(prefix)}\\*\\]$`),
      reason: `${access.service} reads and writes objects under its lake prefix ${prefix} (keys are per topic and hour).`,
    })),
  ]);
}

/**
 * Every cdk-nag (AwsSolutions) finding we accept, each with its reason in code. cdk-nag 3 acknowledges
 * findings one by one (`RuleId[FindingId]`), so this runs the checks once and acknowledges only the
 * findings that match an accepted kind; anything else still fails synth and the test.
 */
export function acknowledgeAcceptedFindings(stack: SecureCartStack): { found: string[]; acknowledged: string[] } {
  const accepted = acceptedWildcards();
  const found: string[] = [];
  const acknowledged: string[] = [];
  for (const violation of new AwsSolutionsChecks(stack).validateScope(stack).violations) {
    found.push(violation.ruleName);
    const match = accepted.find((a) => a.id.test(violation.ruleName));
    if (match) {
      Validations.of(stack).acknowledge({ id: violation.ruleName, reason: match.reason });
      acknowledged.push(violation.ruleName);
    }
  }
  return { found, acknowledged };
}
