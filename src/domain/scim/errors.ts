// SCIM errors (RFC 7644 §3.12): the one error type of Gatehouse, with the SCIM `scimType` as its code,
// so the SCIM routes can answer in the SCIM error schema and everything else in the usual shape.
import { GatehouseError } from '../errors.ts';

/** The scimType values RFC 7644 §3.12 defines. */
export const SCIM_TYPES = ['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive'] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

export const scimError = (scimType: ScimType, status: number, message: string, detail?: string) => new GatehouseError(scimType, status, message, detail);

/** Gatehouse's own codes that have a SCIM meaning. */
const FROM_GATEHOUSE: Record<string, ScimType> = {
  account_exists: 'uniqueness',
  invalid_json: 'invalidSyntax',
  invalid_request: 'invalidValue',
  invalid_role: 'invalidValue',
  invalid_email: 'invalidValue',
  invalid_name: 'invalidValue',
};

/** The scimType of an error (none for 401/403/404 and the other statuses RFC 7644 gives no type). */
export function scimTypeOf(error: unknown): ScimType | undefined {
  if (!(error instanceof GatehouseError)) return undefined;
  if ((SCIM_TYPES as readonly string[]).includes(error.code)) return error.code as ScimType;
  return error.status === 400 || error.status === 409 ? FROM_GATEHOUSE[error.code] : undefined;
}
