export { type AppConfig, appConfig } from './app-context';
export {
  BackupBucket,
  type BackupBucketProps,
  type BackupObjectLock,
  type NoncurrentVersionTransition,
} from './backup-bucket';
export { BackupStack, type BackupStackProps } from './backup-stack';
export { DEFAULTS } from './defaults';
export { JobWorkflow, type JobWorkflowProps } from './job-workflow';
export { TableBackup, type TableBackupProps } from './table-backup';
