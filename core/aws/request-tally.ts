import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { wrapSend } from './wrap-send';

/** Which service a request went to, as summaries report them. */
export type Service = 's3' | 'dynamodb';

/**
 * The requests one job sent, per service and operation, counted by a middleware in the SDK's
 * own stack (see counted), so no function passes a counter around.
 */
let tallies = 0;

export class RequestTally {
  /** Names this tally's middleware: tallies nested on one client (a job's, a caller's) all count. */
  readonly id = ++tallies;
  private readonly counts: Record<Service, Record<string, number>> = { s3: {}, dynamodb: {} };

  add(service: Service, operation: string): void {
    const ops = this.counts[service];
    ops[operation] = (ops[operation] ?? 0) + 1;
  }

  /** Requests to one service, per operation (`{ ListObjectVersions: 3, GetObject: 10 }`). */
  byOperation(service: Service): Record<string, number> {
    return { ...this.counts[service] };
  }

  total(service: Service): number {
    return Object.values(this.counts[service]).reduce((a, b) => a + b, 0);
  }
}

/**
 * The client, with every request sent through it counted in `tally`: a middleware added to each
 * command's own stack (so the shared client is left as it is, and jobs running at once in one
 * process count apart, without tracking async context on every promise).
 */
export function counted<C extends S3Client | DynamoDBClient>(client: C, tally: RequestTally): C {
  const service: Service = client.config.serviceId === 'S3' ? 's3' : 'dynamodb';
  const send = (...args: Parameters<C['send']>) => {
    // The stacks differ only in input and output types, which this middleware does not touch.
    const stack = (args[0] as unknown as { middlewareStack: S3Client['middlewareStack'] }).middlewareStack;
    stack.add(
      (next, context) => (input) => {
        tally.add(service, String(context.commandName).replace(/Command$/, ''));
        return next(input);
      },
      { step: 'initialize', name: `ddbRewindRequestTally${tally.id}`, override: true },
    );
    return Reflect.apply(client.send, client, args) as ReturnType<C['send']>;
  };
  return wrapSend(client, send);
}

/** What a job's summary reports about its requests. */
export interface RequestSummary {
  s3Requests: number;
  dynamodbRequests: number;
  /** Per service and operation: `{ s3: { ListObjectVersions: 256, GetObject: 9970 }, dynamodb: {...} }`. */
  requests: Record<Service, Record<string, number>>;
}

export const requestSummary = (tally: RequestTally): RequestSummary => ({
  s3Requests: tally.total('s3'),
  dynamodbRequests: tally.total('dynamodb'),
  requests: { s3: tally.byOperation('s3'), dynamodb: tally.byOperation('dynamodb') },
});

/** Adds one summary's requests to another's (a job's tasks, merged by its finish step). */
export function addRequests(into: RequestSummary, from: RequestSummary): void {
  into.s3Requests += from.s3Requests;
  into.dynamodbRequests += from.dynamodbRequests;
  for (const service of ['s3', 'dynamodb'] as const) {
    const ops = into.requests[service];
    for (const [op, n] of Object.entries(from.requests[service])) ops[op] = (ops[op] ?? 0) + n;
  }
}

export const noRequests = (): RequestSummary => ({
  s3Requests: 0,
  dynamodbRequests: 0,
  requests: { s3: {}, dynamodb: {} },
});
