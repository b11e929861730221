/**
 * Child process for the memory figure: restores one partition of an existing backup into a new
 * table and prints `items=N peakRssMb=M`. Usage: restore-rss.ts BUCKET TABLE AT_MS TO_PREFIX [pack|no-pack]
 */
import { clientsFromEnv } from '../core/aws/clients';
import { restore } from '../core/aws/restore';
import { silentLog } from '../core/log';
import { backupLocation } from '../core/object-key';
import { dropTable } from '../test/support/fixtures';
import { loadStackEnv, randomName } from '../test/support/local-env';

loadStackEnv();
const [bucket = '', table = '', at = '0', to = 'ff', pack = 'no-pack'] = process.argv.slice(2);
const { s3, dynamodb } = clientsFromEnv();
const target = randomName('bench-rss');
restore(
  { s3, dynamodb, log: silentLog },
  {
    source: backupLocation(bucket, table),
    atMs: Number(at),
    targetTable: target,
    mode: 'upsert',
    createTable: true,
    concurrency: 64,
    partition: { from: '00', to },
    usePack: pack === 'pack',
  },
)
  .then(async (summary) => {
    // maxRSS is in kilobytes: the peak of this whole process, restore included.
    console.log(`items=${summary.itemsPut} peakRssMb=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);
    await dropTable(dynamodb, target);
  })
  .catch((err: unknown) => {
    console.error(`restore-rss failed: ${(err as Error).message}`);
    process.exitCode = 1;
  });
