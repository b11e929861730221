import type { Command } from 'commander';
import { assertAnswerable } from '../core/aws/backup-check';
import { clientsFromEnv } from '../core/aws/clients';
import { itemHistory, stateAt } from '../core/aws/item-history';
import { itemAsOf } from '../core/aws/items-as-of';
import { requireManifest } from '../core/aws/manifest-store';
import { listVersionsOfKey } from '../core/aws/version-store';
import { parseKeys } from '../core/item-key';
import { objectKeyFor } from '../core/object-key';
import { DEFAULT_CLOCK_SKEW_MS } from '../core/select-version';
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
      const objectKey = objectKeyFor(loc, key ?? {});
      const versions = await listVersionsOfKey(s3, loc.bucket, objectKey);
      const item = await itemAsOf(s3, loc.bucket, objectKey, versions, {
        atMs,
        clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
        counter: { s3: 0, versions: 0 },
      });
      const span = stateAt(
        await itemHistory(s3, loc, key ?? {}, horizon.kind === 'since' ? { horizonMs: horizon.fromMs } : {}),
        atMs,
      );
      const before = horizon.kind === 'since' ? `before ${iso(horizon.fromMs)}` : 'before the backup';
      const doc = {
        at: new Date(atMs).toISOString(),
        exists: Boolean(item.image),
        ...(item.image ? { item: item.image } : {}),
        existedSince: iso(span.existedFromMs),
        existedUntil: iso(span.existedUntilMs),
        nextChange: iso(span.nextChangeMs),
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
