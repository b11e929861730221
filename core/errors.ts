/**
 * Every error ddb-rewind raises on purpose. The message is one line that says what is wrong and
 * how to fix it; the CLI prints it as is and exits non-zero.
 */
export class RewindError extends Error {
  override readonly name: string = 'RewindError';
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The user gave a value that cannot be used (a flag, a key, a time). */
export class InputError extends RewindError {
  override readonly name = 'InputError';
}

/** The environment is not set up as ddb-rewind needs (bucket versioning, stream view type, ...). */
export class ConfigurationError extends RewindError {
  override readonly name = 'ConfigurationError';
}

/** The backup does not hold what the request needs (no coverage at T, no table description, ...). */
export class BackupStateError extends RewindError {
  override readonly name: string = 'BackupStateError';
}

/** The bucket holds no backup of the table: every reader says so the same way. */
export class NoBackupError extends BackupStateError {
  override readonly name = 'NoBackupError';
  constructor(where: { bucket: string; prefix: string; table: string }) {
    super(
      `No backup of table ${where.table} at s3://${where.bucket}/${where.prefix}${where.table}/: check --bucket, --prefix and --table, or start backing it up (ddb-rewind stream / the CDK construct)`,
    );
  }
}

/**
 * DynamoDB kept refusing writes (capacity): what was written stays, and running the same command
 * again converges. Exit 1, not 2: the input was fine and the target may be partly written.
 */
export class CapacityError extends RewindError {
  override readonly name = 'CapacityError';
  override readonly exitCode = 1;
}

/** A stream record that can never be stored as it is: it is parked, not retried forever. */
export class PoisonRecordError extends RewindError {
  override readonly name = 'PoisonRecordError';
}
