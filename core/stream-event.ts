import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type SdkItem, sdkItemToWire, type WireItem } from './ddb-json';

/**
 * A record from the DynamoDB Streams API, reshaped as Lambda's event source mapping delivers it:
 * binary as base64, ApproximateCreationDateTime in epoch seconds, userIdentity keys in
 * camelCase, eventSourceARN set. The local runner feeds these to the same handler as Lambda.
 */
export function lambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const image = (item: Record<string, unknown> | undefined): WireItem | undefined =>
    item ? sdkItemToWire(item as SdkItem) : undefined;
  const keys = image(d.Keys);
  const newImage = image(d.NewImage);
  const oldImage = image(d.OldImage);
  const out: DynamoDBRecord = {
    eventSource: 'aws:dynamodb',
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: d.ApproximateCreationDateTime.getTime() / 1000 }
        : {}),
      ...(keys ? { Keys: keys } : {}),
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      ...(d.SequenceNumber ? { SequenceNumber: d.SequenceNumber } : {}),
      ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
      ...(d.StreamViewType ? { StreamViewType: d.StreamViewType as 'NEW_AND_OLD_IMAGES' } : {}),
    },
  };
  if (record.eventID) out.eventID = record.eventID;
  if (record.eventName === 'INSERT' || record.eventName === 'MODIFY' || record.eventName === 'REMOVE') {
    out.eventName = record.eventName;
  }
  if (record.eventVersion) out.eventVersion = record.eventVersion;
  if (record.awsRegion) out.awsRegion = record.awsRegion;
  if (record.userIdentity) {
    out.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  }
  return out;
}

export function lambdaEvent(records: StreamRecord[], streamArn: string): DynamoDBStreamEvent {
  return { Records: records.map((r) => lambdaRecord(r, streamArn)) };
}
