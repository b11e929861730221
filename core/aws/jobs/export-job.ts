import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { WireItem } from '../../ddb-json';
import { InputError } from '../../errors';
import { eventBoolean, eventFields, eventLocation, eventString, eventWhole } from '../../event-fields';
import type { CatalogExport } from '../../export-catalog';
import {
  type DataFileEntry,
  dataFileKey,
  type ExportDestination,
  exportDestination,
  exportRoot,
  type FolderDestination,
  isFolder,
  manifestFilesText,
  manifestSummary,
  md5Base64,
  newExportId,
} from '../../export-manifest';
import { incrementalSummary } from '../../incremental-export';
import {
  continueTask,
  type JobPlan,
  type JobRef,
  type JobTask,
  newJobId,
  type TaskOutcome,
  taskId,
} from '../../job-model';
import { assertCovered, MAX_PARTITIONS } from '../../job-parts';
import { type Partition, WHOLE } from '../../partition';
import { type KeyColumn, keyColumns } from '../../table-manifest';
import { parseInstant } from '../../time-arg';
import { loadTransform } from '../../transform';
import { BackupReader, type ScannedItem, type ScanRequest } from '../backup-reader';
import {
  type DataSink,
  dataFileExtension,
  type ExportFormat,
  openDataSink,
  parquetSchema,
} from '../data-sink';
import type { ExportRequest, ExportSummary } from '../export-as-of';
import { type ExportCatalog, registerExport } from '../export-catalog';
import { type ChangedEntry, changedUnits, writeChangesFile } from '../export-changes';
import { folderTarget, openGzipSink, putWhole, singleTarget } from '../export-files';
import { gapWarnings } from '../gap-store';
import { clearJob, putJobJson, readPlanParams, readTaskResults, saveTaskResult } from '../job-store';
import { splitForJob } from '../pack-reader';
import { addRequests, counted, type RequestSummary, RequestTally, requestSummary } from '../request-tally';
import { checkRestore } from '../restore';
import type { JobContext, JobDefinition } from '../run-job';

/** An export step's context: the Glue database finished exports are registered in, if any. */
export type ExportJobContext = JobContext & { catalog?: ExportCatalog };

/** The run's plan.json: the request and where its output goes. */
interface ExportParams {
  request: Omit<ExportRequest, 'partitions'>;
  dest: ExportDestination;
  /** A folder export's id (DynamoDB's shape). */
  exportId?: string;
  warnings: string[];
  startedMs: number;
  /** An incremental export's changed items, and how they were found. */
  changesFrom?: ExportSummary['changesFrom'];
  /** The key attributes and their types: a Parquet export's columns, what a transform must keep. */
  keyColumns: KeyColumn[];
}

interface ExportTask {
  partition: Partition;
  /** An incremental export's task: the changed items of its partition. */
  changes?: ChangedEntry[];
  /** A continuation's share: what the runs before it left (see ScanStats.remaining). */
  rest?: Partition[];
}

/** A task run's stored result: its data files (folder form), counts, coverage and requests. */
interface ExportTaskResult extends RequestSummary {
  covered: Partition[];
  items: number;
  versionsScanned: number;
  files: DataFileEntry[];
}

/** What a partition wrote. */
interface Written {
  items: number;
  versions: number;
  files: DataFileEntry[];
  remaining: Partition[];
  covered: Partition[];
}

/**
 * What the output asks of the request, refused before anything is written: one file for one task
 * only; Parquet in a folder, with no key attribute named like its item column; a transform that
 * loads. Returns the key columns (Parquet's columns, what a transform must keep).
 */
async function checkOutput(req: ExportRequest, dest: ExportDestination, columns: KeyColumn[]) {
  const count = req.partitions ?? 1;
  if (!isFolder(dest) && count > 1) {
    throw new InputError(
      `Expected \`--out\` to be a folder (ending in /) with \`--partitions\` ${count}: one file is written by one task`,
    );
  }
  if (req.format === 'parquet' && !isFolder(dest)) {
    throw new InputError(
      `Expected \`--out\` to be a folder (ending in /) with \`--format parquet\`, got \`${req.out}\`: Parquet files are written in the export layout`,
    );
  }
  if (req.sinceMs !== undefined && (!isFolder(dest) || req.format === 'parquet' || req.transform)) {
    throw new InputError(
      "Expected `--out` to be a folder (ending in /), DynamoDB JSON and no --transform with `--since`: an incremental export is written in DynamoDB's incremental layout only",
    );
  }
  if (req.format === 'parquet') await parquetSchema(columns);
  if (req.transform)
    await loadTransform(
      req.transform,
      columns.map((c) => c.name),
    );
  return columns;
}

/**
 * Checks as a restore does (coverage, retention horizon, not in the future), then opens the
 * output: a folder export gets its id and `_started`, as DynamoDB's does; one file only its
 * directory. Nothing is written when a check fails.
 */
async function plan(ctx: JobContext, req: ExportRequest): Promise<JobPlan<ExportParams, ExportTask>> {
  const startedMs = Date.now();
  const manifest = await checkRestore(ctx, {
    source: req.source,
    atMs: req.atMs,
    targetTable: `${req.source.table}-export`,
    mode: 'upsert',
    ...(req.sinceMs !== undefined ? { sinceMs: req.sinceMs } : {}),
  });
  const dest = exportDestination(req.out);
  const count = req.partitions ?? 1;
  const columns = await checkOutput(req, dest, keyColumns(manifest));
  const incremental = req.sinceMs !== undefined ? await changedTasks(ctx, req, columns, count) : undefined;
  const units: ExportTask[] =
    incremental?.units ??
    (await splitForJob(ctx.s3, req.source, { atMs: req.atMs, range: req.partition ?? WHOLE, count })).map(
      (partition) => ({ partition }),
    );
  const warnings = await gapWarnings(ctx.s3, req.source, req.atMs);
  const ref: JobRef = { job: 'export', jobId: newJobId('export', startedMs), ...req.source };
  const exportId = isFolder(dest) ? newExportId(startedMs) : undefined;
  await openOutput(ctx.s3, dest, exportId);
  const { partitions: _count, ...request } = req;
  const params: ExportParams = {
    request,
    dest,
    ...(exportId ? { exportId } : {}),
    warnings,
    startedMs,
    keyColumns: columns,
    ...(incremental ? { changesFrom: incremental.changesFrom } : {}),
  };
  await putJobJson(ctx.s3, ref, 'plan.json', params);
  return {
    ...ref,
    step: 'finish',
    params,
    prepare: [],
    partitions: units.map((params, i) => ({
      ...ref,
      step: 'partition',
      id: taskId('p', i),
      part: 0,
      params,
    })),
  };
}

async function openOutput(
  s3: S3Client,
  dest: ExportDestination,
  exportId: string | undefined,
): Promise<void> {
  if (dest.kind === 'file') await mkdir(dirname(dest.path), { recursive: true });
  if (!isFolder(dest) || !exportId) return;
  if (dest.kind === 'dir')
    await mkdir(join(dest.path, exportRoot(dest, exportId), 'data'), { recursive: true });
  await putWhole(s3, folderTarget(dest, `${exportRoot(dest, exportId)}_started`), '');
}

const paramsOf = (ctx: JobContext, ref: JobRef) => readPlanParams<ExportParams>(ctx.s3, ref);

/**
 * Writes the items of the task's range: one data file per hash prefix (folder form; the same
 * file names when run again, and a deadline continuation carries on at the next prefix), or
 * the one file (no deadline: a stream cannot be continued by another task).
 */
async function partition(ctx: JobContext, task: JobTask<ExportTask>): Promise<TaskOutcome<ExportTask>> {
  const params = await paramsOf(ctx, task);
  const req = params.request;
  const reader = readerOf(ctx, req);
  const s3 = counted(ctx.s3, reader.tally);
  if (task.params.changes) return changesPartition(ctx, task, params, reader);
  const pack = req.usePack === false ? undefined : await reader.openPack(req.atMs);
  const range = task.params.partition;
  const scan: ScanRequest = {
    atMs: req.atMs,
    ranges: task.params.rest ?? [range],
    ...(pack ? { pack } : {}),
  };
  const imageOf = await imagesOf(
    reader,
    scan,
    req.transform,
    params.keyColumns.map((c) => c.name),
  );
  const written =
    isFolder(params.dest) && params.exportId
      ? await writeDataFiles(s3, reader, {
          // In listing order: a task run again writes each file with the same bytes.
          scan: { ...scan, ordered: true, ...(ctx.deadline ? { deadline: ctx.deadline } : {}) },
          dest: params.dest,
          exportId: params.exportId,
          imageOf,
          format: req.format ?? 'dynamodb-json',
          keys: params.keyColumns,
        })
      : await writeOneFile(s3, reader, { scan, dest: params.dest, imageOf });
  const result: ExportTaskResult = {
    items: written.items,
    versionsScanned: written.versions,
    files: written.files,
    ...requestSummary(reader.tally),
    covered: written.covered,
  };
  await saveTaskResult(ctx.s3, task, result);
  return written.remaining.length
    ? continueTask(task, { partition: range, rest: written.remaining })
    : { done: true, id: task.id };
}

const readerOf = (ctx: JobContext, req: ExportParams['request']) =>
  new BackupReader(ctx.s3, req.source, {
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    ...(req.clockSkewMs !== undefined ? { clockSkewMs: req.clockSkewMs } : {}),
    log: ctx.log,
  });

/** The incremental export's tasks: the changed items by partition, and how they were found. */
async function changedTasks(ctx: JobContext, req: ExportRequest, columns: KeyColumn[], count: number) {
  const window = { sinceMs: req.sinceMs ?? 0, atMs: req.atMs };
  const names = columns.map((c) => c.name);
  const { units, report } = await changedUnits(ctx.s3, readerOf(ctx, req), window, names, count);
  const changedItems = units.reduce((n, u) => n + u.changes.length, 0);
  const changesFrom = { changedItems, source: report.source, ...(report.note ? { note: report.note } : {}) };
  return { units, changesFrom };
}

/** An incremental export's task: one data file of its changed items' lines. */
async function changesPartition(
  ctx: JobContext,
  task: JobTask<ExportTask>,
  params: ExportParams,
  reader: BackupReader,
): Promise<TaskOutcome<ExportTask>> {
  if (!isFolder(params.dest) || !params.exportId)
    throw new InputError('An incremental export needs a folder `--out`');
  const written = await writeChangesFile(counted(ctx.s3, reader.tally), reader, {
    dest: params.dest,
    exportId: params.exportId,
    partition: task.params.partition,
    changes: task.params.changes ?? [],
    window: { sinceMs: params.request.sinceMs ?? 0, atMs: params.request.atMs },
  });
  const result: ExportTaskResult = {
    items: written.items,
    versionsScanned: written.versions,
    files: written.files,
    ...requestSummary(reader.tally),
    covered: [task.params.partition],
  };
  await saveTaskResult(ctx.s3, task, result);
  return { done: true, id: task.id };
}

/** What an export writes for an item: its image as of T, through the transform if there is one. */
type ImageOf = (item: ScannedItem) => Promise<WireItem | undefined>;

/**
 * The export's ImageOf. With a transform, the task's items go through it once first, writing
 * nothing, so an error stops the task before its first data file.
 */
async function imagesOf(
  reader: BackupReader,
  scan: ScanRequest,
  file: string | undefined,
  names: readonly string[],
): Promise<ImageOf> {
  if (!file) return async (item) => item.image;
  const transform = await loadTransform(file, names);
  const imageOf: ImageOf = async (item) => (item.image ? transform(item.objectKey, item.image) : undefined);
  await reader.scan(scan, () => ({ item: async (item) => void (await imageOf(item)) }));
  return imageOf;
}

/** One data file per hash prefix that has items: `{"Item":...}` lines gzipped, or Parquet. */
async function writeDataFiles(
  s3: S3Client,
  reader: BackupReader,
  out: {
    scan: ScanRequest;
    dest: FolderDestination;
    exportId: string;
    imageOf: ImageOf;
    format: ExportFormat;
    keys: KeyColumn[];
  },
): Promise<Written> {
  const written = { items: 0, files: [] as DataFileEntry[] };
  const open = new Set<DataSink>();
  if (out.dest.kind === 'dir')
    await mkdir(join(out.dest.path, exportRoot(out.dest, out.exportId), 'data'), { recursive: true });
  try {
    const stats = await reader.scan(out.scan, (hh, range) => {
      // Named by where the listing starts: a continuation's file never replaces one before it.
      const key = dataFileKey(out.dest, out.exportId, {
        hh,
        after: range.after,
        extension: dataFileExtension(out.format),
      });
      let sink: DataSink | undefined;
      let itemCount = 0;
      return {
        item: async (item) => {
          const image = await out.imageOf(item);
          if (!image) return;
          if (!sink) {
            sink = await openDataSink(s3, folderTarget(out.dest, key), out.format, out.keys);
            open.add(sink);
          }
          itemCount++;
          written.items++;
          await sink.add(image);
        },
        end: async () => {
          if (!sink) return;
          const file = await sink.close();
          open.delete(sink);
          written.files.push({ itemCount, md5Checksum: file.md5Base64, etag: file.etag, dataFileS3Key: key });
        },
      };
    });
    return { ...written, versions: stats.versions, remaining: stats.remaining, covered: stats.covered };
  } catch (err) {
    await Promise.all([...open].map((sink) => sink.abort()));
    throw err;
  }
}

/** The single-file form: every item of the range into one gzip stream. */
async function writeOneFile(
  s3: S3Client,
  reader: BackupReader,
  { scan, dest, imageOf }: { scan: ScanRequest; dest: ExportDestination; imageOf: ImageOf },
): Promise<Written> {
  if (isFolder(dest)) throw new InputError('A folder export needs its export id from the plan');
  if (dest.kind === 'file') await mkdir(dirname(dest.path), { recursive: true });
  const sink = openGzipSink(s3, singleTarget(dest));
  let items = 0;
  try {
    const stats = await reader.scan(scan, () => ({
      item: async (item) => {
        const image = await imageOf(item);
        if (!image) return;
        items++;
        await sink.write(`${JSON.stringify({ Item: image })}\n`);
      },
    }));
    await sink.close();
    return { items, versions: stats.versions, files: [], remaining: stats.remaining, covered: stats.covered };
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

/**
 * Merges the tasks' results; a folder export's manifests are written now and last, so an
 * export whose finish never ran has no manifest-summary.json and is never taken for finished.
 */
async function finish(ctx: ExportJobContext, p: JobPlan<ExportParams, ExportTask>): Promise<ExportSummary> {
  const params = await paramsOf(ctx, p);
  const results = await readTaskResults<ExportTaskResult>(ctx.s3, p, 'partition');
  assertCovered(
    p,
    p.partitions.map((t) => t.params.partition),
    results.map((r) => r.covered),
  );
  const items = results.reduce((n, r) => n + r.items, 0);
  const files = results.flatMap((r) => r.files);
  const tally = new RequestTally();
  const folder = isFolder(params.dest) && params.exportId ? params.dest : undefined;
  const manifest =
    folder && params.exportId
      ? await writeManifests(counted(ctx.s3, tally), params, {
          dest: folder,
          exportId: params.exportId,
          files,
          items,
        })
      : undefined;
  // Before the job's files go: a failed registration fails the step, and a retry finds them.
  const catalog =
    manifest && folder && ctx.catalog
      ? await registerExport(ctx.catalog, catalogExport(params, folder, items))
      : undefined;
  await clearJob(ctx.s3, p);
  const requests = requestSummary(tally);
  for (const r of results) addRequests(requests, r);
  const summary: ExportSummary = {
    atMs: params.request.atMs,
    out: params.request.out,
    items,
    versionsScanned: results.reduce((n, r) => n + r.versionsScanned, 0),
    ...requests,
    durationMs: Date.now() - params.startedMs,
    warnings: params.warnings,
    ...(manifest ? { exportId: params.exportId, files: files.length, manifest } : {}),
    ...(catalog ? { catalog } : {}),
    ...(params.changesFrom ? { changesFrom: params.changesFrom } : {}),
    jobId: p.jobId,
    partitions: p.partitions.length,
  };
  ctx.log.info('export finished', { ...summary, warnings: undefined });
  return summary;
}

/** A finished S3 folder export as its Glue table describes it. */
function catalogExport(params: ExportParams, dest: FolderDestination, items: number): CatalogExport {
  if (dest.kind !== 's3-folder' || !params.exportId) {
    throw new InputError(
      'Only an export to an S3 folder can be registered in Glue: give --out s3://bucket/prefix/',
    );
  }
  return {
    table: params.request.source.table,
    exportId: params.exportId,
    atMs: params.request.atMs,
    format: params.request.format ?? 'dynamodb-json',
    dataLocation: `s3://${dest.bucket}/${exportRoot(dest, params.exportId)}data/`,
    keyColumns: params.keyColumns,
    itemCount: items,
  };
}

/** manifest-files (+ .md5), then the summary's .md5, then manifest-summary.json last. */
async function writeManifests(
  s3: S3Client,
  params: ExportParams,
  out: { dest: FolderDestination; exportId: string; files: DataFileEntry[]; items: number },
): Promise<string> {
  const root = exportRoot(out.dest, out.exportId);
  const put = (name: string, body: string) => putWhole(s3, folderTarget(out.dest, `${root}${name}`), body);
  const filesText = manifestFilesText(out.files);
  const reported = await put('manifest-files.json', filesText);
  await put('manifest-files.md5', md5Base64(filesText));
  const full = manifestSummary({
    source: params.request.source,
    dest: out.dest,
    exportId: out.exportId,
    startMs: params.startedMs,
    endMs: Date.now(),
    atMs: params.request.atMs,
    itemCount: out.items,
    outputFormat: params.request.format === 'parquet' ? 'PARQUET' : 'DYNAMODB_JSON',
    ...(reported.sse ? { sse: reported.sse } : {}),
  });
  const sinceMs = params.request.sinceMs;
  const summary = JSON.stringify(sinceMs === undefined ? full : incrementalSummary(full, sinceMs));
  await put('manifest-summary.md5', md5Base64(summary));
  await put('manifest-summary.json', summary);
  const key = `${root}manifest-summary.json`;
  return out.dest.kind === 's3-folder' ? `s3://${out.dest.bucket}/${key}` : join(out.dest.path, key);
}

/** The export job: data files per partition, the manifests by finish. */
export const exportJob: JobDefinition<ExportRequest, ExportParams, ExportTask, ExportSummary> = {
  plan,
  partition,
  finish,
};

/**
 * The export workflow's plan event: `table`, `bucket`, `prefix`?, `at`? (ISO-8601 with a zone
 * or epoch ms; default now), `out`? (an S3 folder `s3://bucket/prefix/`, inside `exportRoot`
 * when the function has one; default `exportRoot`), `partitions`?, `concurrency`?, `usePack`?.
 * A Lambda task writes DynamoDB's export layout only: one file cannot be continued by another task.
 */
export function parseExportEvent(
  event: unknown,
  options: { exportRoot?: string | undefined; nowMs?: number } = {
    exportRoot: process.env.DDB_REWIND_EXPORT_ROOT,
  },
): ExportRequest {
  const e = eventFields(event, 'export');
  const source = eventLocation(e, 'export');
  const out = eventString(e, 'out', 'export') ?? options.exportRoot;
  if (!out) throw new InputError('Expected "out" in the export event: an S3 folder, s3://bucket/prefix/');
  if (exportDestination(out).kind !== 's3-folder')
    throw new InputError(`Expected "out" in the export event to be an S3 folder ending in /, got \`${out}\``);
  if (options.exportRoot && !out.startsWith(options.exportRoot))
    throw new InputError(
      `Expected "out" in the export event to be inside ${options.exportRoot}, got \`${out}\``,
    );
  const at = e.at;
  if (at !== undefined && typeof at !== 'string' && typeof at !== 'number')
    throw new InputError(`Expected "at" in the export event to be a time, got ${JSON.stringify(at)}`);
  const partitions = eventWhole(e, 'partitions', 'export', { min: 1, max: MAX_PARTITIONS });
  const concurrency = eventWhole(e, 'concurrency', 'export', { min: 1, max: 1024 });
  const usePack = eventBoolean(e, 'usePack', 'export');
  const format = eventString(e, 'format', 'export');
  if (format !== undefined && format !== 'dynamodb-json' && format !== 'parquet')
    throw new InputError(
      `Expected "format" in the export event to be dynamodb-json or parquet, got \`${format}\``,
    );
  return {
    source,
    atMs: at === undefined ? (options.nowMs ?? Date.now()) : parseInstant('at', String(at)),
    out,
    ...(partitions ? { partitions } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(usePack !== undefined ? { usePack } : {}),
    ...(format ? { format } : {}),
    ...(e.since !== undefined ? { sinceMs: parseInstant('since', String(e.since)) } : {}),
  };
}
