/**
 * The one rule for which DynamoDB stream view types a backup can use, shared by synth-time checks
 * (tables of the app, or a `streamViewType` prop) and the deploy-time custom resource. No CDK
 * imports here: the custom resource's bundle stays small.
 */

/** View types whose records carry the new image, which is what every backup version holds. */
export const USABLE_VIEW_TYPES: readonly string[] = ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE'];

/** The view type a stream enabled by ddb-rewind gets. */
export const ENABLED_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

/**
 * Why a stream of this view type cannot be backed up, or undefined if it can. `fix` says how to
 * change it where the table is defined (CDK prop, or the AWS CLI for an existing table).
 *
 * @example
 * streamViewTypeProblem('orders', 'KEYS_ONLY', existingTableFix('orders'));
 */
export function streamViewTypeProblem(table: string, viewType: string, fix: string): string | undefined {
  if (USABLE_VIEW_TYPES.includes(viewType)) return undefined;
  return `Table ${table} has a ${viewType} stream, whose records carry no new image to back up: set its StreamViewType to ${ENABLED_VIEW_TYPE}. ${fix}`;
}

/** How to fix the view type of a table that lives outside the app. */
export const existingTableFix = (table: string): string =>
  `A stream's view type cannot be changed in place: disable the stream (aws dynamodb update-table --table-name ${table} --stream-specification StreamEnabled=false), enable it again (--stream-specification StreamEnabled=true,StreamViewType=${ENABLED_VIEW_TYPE}) and deploy again; other consumers of the old stream must move to the new one.`;

/** How to fix the view type of a table defined in the CDK app. */
export const appTableFix = `Set \`stream: StreamViewType.${ENABLED_VIEW_TYPE}\` (TableV2: \`dynamoStream\`) on the table.`;
