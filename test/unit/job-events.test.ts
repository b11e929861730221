import { parseExportEvent } from '../../core/aws/jobs/export-job';
import { parsePackEvent } from '../../core/aws/jobs/pack-job';
import { parseVerifyEvent } from '../../core/aws/jobs/verify-job';

// The plan events of the pack, export and verify workflows: checked as the CLI checks its
// flags, each refusal one line naming the field.

const where = { table: 'orders', bucket: 'backups', prefix: 'team' };
const oneLine = (f: () => unknown, pattern: RegExp) => {
  let message = '';
  try {
    f();
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(pattern);
  expect(message.split('\n')).toHaveLength(1);
};

describe('parsePackEvent', () => {
  it('takes the location, partitions and concurrency', () => {
    expect(
      parsePackEvent({ ...where, partitions: 16, concurrency: '64', job: 'pack', step: 'plan' }),
    ).toEqual({
      source: { bucket: 'backups', prefix: 'team/', table: 'orders' },
      partitions: 16,
      concurrency: 64,
    });
    expect(parsePackEvent({ table: 'orders', bucket: 'backups' })).toEqual({
      source: { bucket: 'backups', prefix: '', table: 'orders' },
    });
  });

  it('refuses bad fields in one line', () => {
    oneLine(() => parsePackEvent('pack'), /^Expected the pack event to be a JSON object/);
    oneLine(() => parsePackEvent({ bucket: 'backups' }), /^Expected "table" in the pack event/);
    oneLine(
      () => parsePackEvent({ ...where, table: 7 }),
      /^Expected "table" in the pack event to be a string/,
    );
    oneLine(() => parsePackEvent({ ...where, partitions: 257 }), /"partitions" in the pack event.*1 to 256/);
    oneLine(() => parsePackEvent({ ...where, concurrency: { n: 1 } }), /"concurrency" in the pack event/);
    oneLine(
      () => parsePackEvent({ ...where, bucket: 'No_Bucket' }),
      /^Expected `--bucket` to be an S3 bucket name/,
    );
  });
});

describe('parseExportEvent', () => {
  const options = { exportRoot: 's3://backups/team/orders/_exports/', nowMs: 1_800_000_000_000 };

  it('writes the export layout under the function export root, as of now by default', () => {
    expect(parseExportEvent({ ...where, partitions: 8, usePack: false }, options)).toEqual({
      source: { bucket: 'backups', prefix: 'team/', table: 'orders' },
      atMs: 1_800_000_000_000,
      out: 's3://backups/team/orders/_exports/',
      partitions: 8,
      usePack: false,
    });
    const at = parseExportEvent(
      { ...where, at: '2026-11-01T00:00:00Z', out: 's3://backups/team/orders/_exports/nov/' },
      options,
    );
    expect(at).toMatchObject({
      atMs: Date.parse('2026-11-01T00:00:00Z'),
      out: 's3://backups/team/orders/_exports/nov/',
    });
    expect(parseExportEvent({ ...where, format: 'parquet' }, options)).toMatchObject({ format: 'parquet' });
  });

  it('refuses one file, a folder outside the root, and bad fields, in one line', () => {
    oneLine(
      () => parseExportEvent({ ...where, out: 's3://backups/team/orders/_exports/x.json.gz' }, options),
      /^Expected "out" in the export event to be an S3 folder ending in \//,
    );
    oneLine(
      () => parseExportEvent({ ...where, out: 's3://elsewhere/' }, options),
      /^Expected "out" in the export event to be inside s3:\/\/backups\/team\/orders\/_exports\//,
    );
    oneLine(() => parseExportEvent({ ...where }, {}), /^Expected "out" in the export event/);
    oneLine(
      () => parseExportEvent({ ...where, at: 'yesterday' }, options),
      /^Expected `at` to be an ISO-8601 time/,
    );
    oneLine(
      () => parseExportEvent({ ...where, at: [1] }, options),
      /^Expected "at" in the export event to be a time/,
    );
    oneLine(
      () => parseExportEvent({ ...where, format: 'csv' }, options),
      /^Expected "format" in the export event to be dynamodb-json or parquet, got `csv`/,
    );
    oneLine(
      () => parseExportEvent({ ...where, usePack: 'no' }, options),
      /"usePack" in the export event to be true or false/,
    );
  });
});

describe('parseVerifyEvent', () => {
  it('takes the sample, settle window, partitions and scan segments', () => {
    expect(parseVerifyEvent({ ...where, sample: 10, settleMs: 0, partitions: 4, spillSegments: 8 })).toEqual({
      source: { bucket: 'backups', prefix: 'team/', table: 'orders' },
      samplePercent: 10,
      settleMs: 0,
      partitions: 4,
      spillSegments: 8,
    });
  });

  it('refuses bad fields in one line', () => {
    oneLine(() => parseVerifyEvent({ ...where, sample: 0 }), /"sample" in the verify event.*1 to 100/);
    oneLine(() => parseVerifyEvent({ ...where, settleMs: '10s' }), /"settleMs" in the verify event/);
    oneLine(() => parseVerifyEvent(null), /^Expected the verify event to be a JSON object/);
  });
});
