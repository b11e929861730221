import type { Command } from 'commander';
import { assertAnswerable } from '../core/aws/backup-check';
import { BackupReader } from '../core/aws/backup-reader';
import { clientsFromEnv } from '../core/aws/clients';
import { requireManifest } from '../core/aws/manifest-store';
import { parseKeys } from '../core/item-key';
import { itemSpan } from '../core/item-span';
import { objectKeyFor } from '../core/object-key';
import type { ListedVersion } from '../core/select-version';
import type { CliContext } from './context';
import { instantOf, type LocationOptions, locationOf, withBackupOptions } from './options';

interface ShowOptions extends LocationOptions {
  key: string;
  at?: string;
  json?: boolean;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function registerShow(program: Command, ctx: CliContext): void {
  withBackupOptions(
    program.command('show').description('one item as it was at an instant (the same selection restore uses)'),
  )
    .requiredOption('--key <json>', 'the item key: {"pk":"a","sk":1} or DynamoDB JSON')
    .option('--at <time>', 'ISO-8601 with a zone, or epoch ms (default: now)')
    .option('--json', 'print one JSON document')
    .action(async (o: ShowOptions) => {
      const loc = locationOf(o);
      const atMs = instantOf('--at', o.at);
      const { s3 } = clientsFromEnv();
      const manifest = await requireManifest(s3, loc);
      const [key] = parseKeys('--key', o.key, manifest);
      const horizon = await assertAnswerable(s3, loc, manifest, [{ flag: '--at', atMs }], Date.now());
      const reader = new BackupReader(s3, loc);
      const objectKey = objectKeyFor(loc, key ?? {});
      const item = await reader.itemAsOf(objectKey, atMs);
      // What the as-of read learned answers most of the span: usually no request more.
      const readMeta = async (v: ListedVersion) =>
        item.metas.has(v.versionId) ? item.metas.get(v.versionId) : reader.readMeta(objectKey, v.versionId);
      const span = await itemSpan(item.versions, item.chosen, atMs, readMeta);
      // Before the horizon, versions may be gone: an earlier start of the item's life may be too.
      const since =
        horizon.kind === 'since' && (span.existedFromMs ?? 0) < horizon.fromMs
          ? undefined
          : span.existedFromMs;
      const before = horizon.kind === 'since' ? `before ${iso(horizon.fromMs)}` : 'before the backup';
      const doc = {
        at: new Date(atMs).toISOString(),
        exists: Boolean(item.image),
        ...(item.image ? { item: item.image } : {}),
        existedSince: iso(since),
        existedUntil: iso(span.existedUntilMs),
        nextChange: iso(span.nextChangeMs),
        s3Requests: reader.tally.total('s3'),
      };
      if (o.json) ctx.print(JSON.stringify(doc, null, 2));
      else if (item.image) {
        ctx.print(`${objectKey} as of ${doc.at} (exists since ${doc.existedSince ?? before}):`);
        ctx.print(JSON.stringify(item.image, null, 2));
      } else {
        const until = doc.existedUntil ? `; it was deleted at ${doc.existedUntil}` : '';
        const next = doc.nextChange ? `; its next change is at ${doc.nextChange}` : '';
        ctx.print(`${objectKey} did not exist at ${doc.at}${until}${next}`);
      }
    });
}
