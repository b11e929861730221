/**
 * ddb-rewind as a library (`import { ... } from 'ddb-rewind'`): the same functions the CLI and the
 * Lambda handlers call, each taking its SDK clients as parameters. The CDK construct is
 * `ddb-rewind/cdk`.
 */
export { BackupReader, type ReaderSettings, type ScannedItem } from './aws/backup-reader';
export { type ChangedItem, type ChangesReport, changesIn } from './aws/changes';
export { type Clients, clientsFromEnv } from './aws/clients';
export { type ExportRequest, type ExportSummary, exportAsOf } from './aws/export-as-of';
export { type HistoryPage, historyPage } from './aws/history-page';
export { type HistoryEntry, type ItemHistory, itemHistory } from './aws/item-history';
export { type RestoreJobRequest, type RestoreJobSummary, restoreJob } from './aws/jobs/restore-job';
export { type PackSummary, writePack } from './aws/pack-writer';
export { type RestoreRequest, type RestoreSummary, restore } from './aws/restore';
export { runJob } from './aws/run-job';
export { type RunSummary, runStream } from './aws/stream-runner';
export { streamHandler, writeStreamBatch } from './aws/stream-writer';
export { type VerifyReport, type VerifyRequest, verify } from './aws/verify';
export { BackupStateError, ConfigurationError, InputError, RewindError } from './errors';
export { type AttributeChange, diffItems } from './item-diff';
export { parseKeys, plainKeyText } from './item-key';
export { type BackupLocation, backupLocation, type ItemKey, objectKeyFor } from './object-key';
export { parseInstant } from './time-arg';
