import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/** Which service a request went to, as summaries report them. */
export type Service = 's3' | 'dynamodb';

/**
 * The requests one job sent, per service and operation, counted by a middleware in the SDK
 * clients' own stack (see countRequests), so no function passes a counter around.
 */
export class RequestTally {
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

  count(service: Service, operation: string): number {
    return this.counts[service][operation] ?? 0;
  }
}

// The tally of the job whose code sent a request: concurrent jobs in one process (partitions of
// one restore, tests) each count their own, and requests outside any job are not counted.
const currentTally = new AsyncLocalStorage<RequestTally>();
const counting = new WeakSet<object>();

/** Runs `job` with every request it sends (through counted clients) added to `tally`. */
export function withTally<T>(tally: RequestTally, job: () => Promise<T>): Promise<T> {
  return currentTally.run(tally, job);
}

/** Adds the counting middleware to a client once; returns the client. */
export function countRequests<C extends S3Client | DynamoDBClient>(client: C): C {
  if (counting.has(client)) return client;
  counting.add(client);
  const service: Service = client.config.serviceId === 'S3' ? 's3' : 'dynamodb';
  // One entry per send (retries of a send are not separate requests here), before retries run.
  (client as S3Client).middlewareStack.add(
    (next, context) => (args) => {
      currentTally.getStore()?.add(service, String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'ddbRewindRequestTally' },
  );
  return client;
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
