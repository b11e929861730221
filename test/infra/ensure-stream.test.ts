import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { ensureStream, type TableApi } from '../../infra/ensure-stream/handler';

// The custom resource's decisions, against a fake DynamoDB: no AWS, no waiting.

const ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000';
const noWait = { attempts: 5, delayMs: 1000, sleep: async () => {} };

/** Answers describe() with each description in turn (the last one repeats) and records updates. */
function fakeTable(descriptions: TableDescription[], enable: () => void = () => {}) {
  const calls: string[] = [];
  let i = 0;
  const api: TableApi = {
    async describe(table) {
      calls.push(`describe ${table}`);
      const desc = descriptions[Math.min(i++, descriptions.length - 1)];
      if (!desc) throw new Error('no description');
      return desc;
    },
    async enableStream(table) {
      calls.push(`enable ${table}`);
      enable();
    },
  };
  return { api, calls };
}

const streamed = (viewType: string, status = 'ACTIVE'): TableDescription =>
  ({
    TableStatus: status,
    StreamSpecification: { StreamEnabled: true, StreamViewType: viewType },
    LatestStreamArn: ARN,
  }) as TableDescription;

describe('ensureStream', () => {
  it('enables a NEW_AND_OLD_IMAGES stream on a table without one and returns its ARN once active', async () => {
    const { api, calls } = fakeTable([
      { TableStatus: 'ACTIVE' },
      { ...streamed('NEW_AND_OLD_IMAGES'), TableStatus: 'UPDATING' } as TableDescription,
      streamed('NEW_AND_OLD_IMAGES'),
    ]);
    await expect(ensureStream(api, 'orders', noWait)).resolves.toEqual({
      StreamArn: ARN,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      EnabledHere: 'true',
    });
    expect(calls).toEqual(['describe orders', 'enable orders', 'describe orders', 'describe orders']);
  });

  it.each(['NEW_AND_OLD_IMAGES', 'NEW_IMAGE'])('keeps an existing %s stream as it is', async (viewType) => {
    const { api, calls } = fakeTable([streamed(viewType)]);
    await expect(ensureStream(api, 'orders', noWait)).resolves.toEqual({
      StreamArn: ARN,
      StreamViewType: viewType,
      EnabledHere: 'false',
    });
    expect(calls).toEqual(['describe orders']);
  });

  it.each(['KEYS_ONLY', 'OLD_IMAGE'])(
    'fails the deployment on a %s stream, naming the table and NEW_AND_OLD_IMAGES',
    async (viewType) => {
      const { api, calls } = fakeTable([streamed(viewType)]);
      await expect(ensureStream(api, 'orders', noWait)).rejects.toThrow(
        new RegExp(
          `^Table orders has a ${viewType} stream, whose records carry no new image to back up: set its StreamViewType to NEW_AND_OLD_IMAGES\\..*StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES`,
        ),
      );
      expect(calls).toEqual(['describe orders']);
    },
  );

  it('waits out another update of the table, then enables the stream', async () => {
    let refused = false;
    const { api, calls } = fakeTable(
      [{ TableStatus: 'ACTIVE' }, { TableStatus: 'ACTIVE' }, streamed('NEW_AND_OLD_IMAGES')],
      () => {
        if (!refused) {
          refused = true;
          throw new ResourceInUseException({ message: 'table is being updated', $metadata: {} });
        }
      },
    );
    await expect(ensureStream(api, 'orders', noWait)).resolves.toMatchObject({ EnabledHere: 'true' });
    expect(calls.filter((c) => c.startsWith('enable'))).toHaveLength(2);
  });

  it('gives up with a message when the stream never becomes usable', async () => {
    const { api } = fakeTable([{ TableStatus: 'UPDATING' }]);
    await expect(ensureStream(api, 'orders', noWait)).rejects.toThrow(
      /^Table orders did not get an enabled stream within 5 s \(status UPDATING\)/,
    );
  });

  it('passes on errors it does not expect (AccessDenied, ...)', async () => {
    const { api } = fakeTable([{ TableStatus: 'ACTIVE' }], () => {
      throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    });
    await expect(ensureStream(api, 'orders', noWait)).rejects.toThrow('not authorized');
  });
});
