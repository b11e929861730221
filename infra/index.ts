export { type AppConfig, appConfig } from './app-context';
export {
  BackupBucket,
  type BackupBucketProps,
  type BackupObjectLock,
  type NoncurrentVersionTransition,
} from './backup-bucket';
export { BackupStack, type BackupStackProps } from './backup-stack';
export { DEFAULTS } from './defaults';
export { RestoreWorkflow } from './restore-workflow';
export { TableBackup, type TableBackupProps } from './table-backup';
