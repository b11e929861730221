import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/*
 * aws-cdk-lib types optional members of its classes as `T | undefined` but of its interfaces as
 * `T?`, so under exactOptionalPropertyTypes a Table is not an ITable, nor a Bucket an IBucket.
 * Props accept both; these return the same object as the interface.
 */
export type AnyTable = dynamodb.ITable | dynamodb.Table | dynamodb.TableV2;
export type AnyBucket = s3.IBucket | s3.Bucket;
export const asTable = (table: AnyTable): dynamodb.ITable => table as dynamodb.ITable;
export const asBucket = (bucket: AnyBucket): s3.IBucket => bucket as s3.IBucket;
