import type { Command } from 'commander';
import { BackupReader } from '../core/aws/backup-reader';
import { clientsFromEnv } from '../core/aws/clients';
import { requireManifest } from '../core/aws/manifest-store';
import { parseKeys } from '../core/item-key';
import { objectKeyFor } from '../core/object-key';
import type { CliContext } from './context';
import { type LocationOptions, locationOf, withBackupOptions } from './options';

interface LocateOptions extends LocationOptions {
  key: string;
  json?: boolean;
}

export function registerLocate(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program
      .command('locate')
      .description("where an item's backup lives: its S3 object key and the S3 console page of its versions"),
  )
    .requiredOption('--key <json>', 'the item key: {"pk":"a","sk":1} or DynamoDB JSON')
    .option('--json', 'print one JSON document')
    .action(async (o: LocateOptions) => {
      const loc = locationOf(o);
      const { s3 } = clientsFromEnv();
      const [key] = parseKeys('--key', o.key, await requireManifest(s3, loc));
      const objectKey = objectKeyFor(loc, key ?? {});
      const versions = await new BackupReader(s3, loc).versionsOf(objectKey);
      const region = process.env.AWS_REGION ?? 'us-east-1';
      const console = `https://${region}.console.aws.amazon.com/s3/object/${loc.bucket}?region=${region}&bucketType=general&prefix=${encodeURIComponent(objectKey)}&tab=versions`;
      const doc = {
        bucket: loc.bucket,
        objectKey,
        versions: versions.filter((v) => !v.isDeleteMarker).length,
        console,
      };
      ctx.print(
        o.json
          ? JSON.stringify(doc, null, 2)
          : `s3://${loc.bucket}/${objectKey}\n${doc.versions} versions\n${console}`,
      );
    });
}
