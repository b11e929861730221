import {
  AlreadyExistsException,
  ConcurrentModificationException,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  type GlueClient,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import {
  type CatalogExport,
  exportTableInput,
  exportTableName,
  latestTableName,
  replacesLatest,
} from '../export-catalog';

/** Where exports are registered: a Glue client and the database (the construct creates it). */
export interface ExportCatalog {
  glue: GlueClient;
  database: string;
}

/** What registering one export did, for the export's summary. */
export interface Registered {
  database: string;
  table: string;
  /** True when `<table>_latest` now reads this export. */
  latest: boolean;
}

/**
 * Registers a finished export: its own table (created, or replaced when the finish step runs
 * again), then `<table>_latest` when this export's instant is the latest. Runs after the
 * manifests, so a table never points at an unfinished export.
 */
export async function registerExport(catalog: ExportCatalog, e: CatalogExport): Promise<Registered> {
  const table = exportTableName(e);
  await putTable(catalog, exportTableInput(e, table));
  const latest = await moveLatest(catalog, e);
  return { database: catalog.database, table, latest };
}

/** CreateTable, or UpdateTable when it exists: the same export registered twice is one table. */
async function putTable(catalog: ExportCatalog, input: TableInput): Promise<void> {
  try {
    await catalog.glue.send(new CreateTableCommand({ DatabaseName: catalog.database, TableInput: input }));
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
    await catalog.glue.send(new UpdateTableCommand({ DatabaseName: catalog.database, TableInput: input }));
  }
}

/**
 * Points `latest` at this export unless it reads a later instant. Two exports finishing at once
 * both read the table's version; Glue refuses the second update of that version, which then reads again.
 */
async function moveLatest(catalog: ExportCatalog, e: CatalogExport, attempt = 1): Promise<boolean> {
  const input = exportTableInput(e, latestTableName(e.table));
  const current = await getTable(catalog, input.Name ?? '');
  if (current && !replacesLatest(current.parameters, e)) return false;
  try {
    if (!current) {
      await catalog.glue.send(new CreateTableCommand({ DatabaseName: catalog.database, TableInput: input }));
    } else {
      await catalog.glue.send(
        new UpdateTableCommand({
          DatabaseName: catalog.database,
          TableInput: input,
          VersionId: current.versionId,
        }),
      );
    }
    return true;
  } catch (err) {
    const raced = err instanceof AlreadyExistsException || err instanceof ConcurrentModificationException;
    if (!raced || attempt >= 5) throw err;
    return moveLatest(catalog, e, attempt + 1);
  }
}

async function getTable(
  catalog: ExportCatalog,
  name: string,
): Promise<{ parameters: Record<string, string> | undefined; versionId: string | undefined } | undefined> {
  try {
    const { Table } = await catalog.glue.send(
      new GetTableCommand({ DatabaseName: catalog.database, Name: name }),
    );
    return { parameters: Table?.Parameters, versionId: Table?.VersionId };
  } catch (err) {
    if (err instanceof EntityNotFoundException) return undefined;
    throw err;
  }
}
