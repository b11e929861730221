import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { wholeNumber } from '../number-arg';

/**
 * SDK clients configured only by the SDK's own variables (AWS_REGION, the credential chain,
 * AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, ...), so the same code runs
 * against real AWS and the local stack. Adaptive retries absorb throttling and 5xx.
 */
export interface Clients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
}

const retry = () => ({
  retryMode: process.env.AWS_RETRY_MODE ?? 'adaptive',
  maxAttempts: wholeNumber('AWS_MAX_ATTEMPTS', process.env.AWS_MAX_ATTEMPTS, {
    min: 1,
    max: 100,
    fallback: 5,
  }),
});

/** True when S3 is not AWS itself (Ceph, MinIO, a proxy): path-style addressing is needed. */
export const customS3Endpoint = (env = process.env): boolean =>
  Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);

/** @param overrides for tests and tools that need one client elsewhere (a fault-injecting proxy). */
export function s3Client(overrides: S3ClientConfig = {}): S3Client {
  const custom = customS3Endpoint() || overrides.endpoint !== undefined;
  return new S3Client({
    ...retry(),
    ...(custom
      ? {
          forcePathStyle: true,
          // S3-compatible servers reject the SDK's default streaming checksums (HTTP 411).
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    ...overrides,
  });
}

export const dynamodbClient = (overrides: DynamoDBClientConfig = {}): DynamoDBClient =>
  new DynamoDBClient({ ...retry(), ...overrides });
export const glueClient = (): GlueClient => new GlueClient(retry());
export const streamsClient = (): DynamoDBStreamsClient => new DynamoDBStreamsClient(retry());

export function clientsFromEnv(): Clients {
  return { s3: s3Client(), dynamodb: dynamodbClient(), streams: streamsClient() };
}
