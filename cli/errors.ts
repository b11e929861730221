import { RewindError } from '../core/errors';

/**
 * One line for any failure: ddb-rewind's own errors say what to do; the usual AWS and network
 * failures are translated into the same form. Never includes credentials.
 */
export function describeError(err: unknown): string {
  if (err instanceof RewindError) return err.message;
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string };
    $metadata?: { httpStatusCode?: number };
  };
  const name = e?.name ?? '';
  const message = (e?.message ?? String(err)).split('\n')[0] ?? '';
  const code = e?.code ?? e?.cause?.code ?? '';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'No AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for the local stack: eval "$(npm run -s stack:env)")';
  }
  if (/Region is missing/i.test(message))
    return 'No AWS region set: set AWS_REGION (e.g. export AWS_REGION=us-east-1)';
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    /ECONNREFUSED/.test(message)
  ) {
    const endpoint = /(\d+\.\d+\.\d+\.\d+:\d+|[a-z0-9.-]+:\d+)/i.exec(message)?.[1] ?? 'the endpoint';
    return `Cannot reach ${endpoint}: check AWS_ENDPOINT_URL* and the network (for the local stack: npm run stack:up)`;
  }
  if (name === 'NoSuchBucket')
    return 'The bucket does not exist: check --bucket (and that AWS_REGION is its region)';
  if (name === 'ResourceNotFoundException')
    return `DynamoDB table not found: ${message}: check --table / --target-table and AWS_REGION`;
  if (name === 'AccessDenied' || name === 'AccessDeniedException')
    return `Access denied: ${message}: grant the missing permission or use other credentials`;
  return `${name || 'Error'}: ${message}`;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof RewindError ? err.exitCode : 1;
}
