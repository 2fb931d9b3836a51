/**
 * Acme MDR's own data: local users (password, own TOTP, link to a Gatehouse `sub`) and the
 * organization-wide "Require 2FA for sign-in" switch. Routes talk to this interface only; the
 * in-memory and JSON-file stores implement it.
 *
 * One-time things are consumed by the store in one step (`consumeTotpStep`, `consumeRecoveryCode`):
 * a route never reads, checks and writes back in separate steps.
 */

export interface RecoveryCodeRecord {
  id: string;
  /** argon2id hash of the code; the code itself is shown once and never stored. */
  hash: string;
  usedAt: string | null;
}

export interface TotpRecord {
  /**
   * Base32 secret. A demo app keeps it in its data file as is; a production RP would encrypt it at
   * rest (Gatehouse uses AES-256-GCM, DESIGN.md §9).
   */
  secret: string;
  /** Highest RFC 6238 time step accepted so far; a step is never accepted twice. */
  lastUsedStep: number;
  enabledAt: string;
  recoveryCodes: RecoveryCodeRecord[];
}

export interface LocalUser {
  id: string;
  email: string;
  name: string;
  /** argon2id; null for users created by unified login, who cannot use the direct form. */
  passwordHash: string | null;
  /** Gatehouse `sub` this user is linked to (unified login), or null. */
  gatehouseSub: string | null;
  isAdmin: boolean;
  createdAt: string;
  totp: TotpRecord | null;
}

export interface NewLocalUser {
  email: string;
  name: string;
  passwordHash: string | null;
  gatehouseSub?: string | null;
  isAdmin?: boolean;
}

export interface OrgSettings {
  /** The app's local 2FA setting: "Require 2FA for sign-in". */
  requireTwoFactor: boolean;
}

export interface StoreData {
  version: 1;
  users: LocalUser[];
  settings: OrgSettings;
}

export class StoreConflictError extends Error {
  readonly code: 'email_taken' | 'sub_taken';

  constructor(code: 'email_taken' | 'sub_taken', message: string) {
    super(message);
    this.name = 'StoreConflictError';
    this.code = code;
  }
}

export interface DownstreamStore {
  getUser(id: string): Promise<LocalUser | undefined>;
  /** Case-insensitive. */
  findUserByEmail(email: string): Promise<LocalUser | undefined>;
  findUserByGatehouseSub(sub: string): Promise<LocalUser | undefined>;
  /** Throws {@link StoreConflictError} when the email or the `sub` is already used. */
  createUser(input: NewLocalUser): Promise<LocalUser>;
  /** Links only an unlinked user to an unused `sub`; false otherwise. */
  linkGatehouseSub(userId: string, sub: string): Promise<boolean>;
  /** Turns on (or replaces) the user's TOTP with fresh recovery codes; `acceptedStep` is the step that confirmed it. */
  enableTotp(userId: string, secret: string, recoveryCodeHashes: string[], acceptedStep: number): Promise<void>;
  disableTotp(userId: string): Promise<void>;
  /** Records `step` as used when it is newer than every step accepted before; false = replay. */
  consumeTotpStep(userId: string, step: number): Promise<boolean>;
  /** Marks the recovery code used when it was unused; false = already used or unknown. */
  consumeRecoveryCode(userId: string, codeId: string): Promise<boolean>;
  getSettings(): Promise<OrgSettings>;
  updateSettings(patch: Partial<OrgSettings>): Promise<OrgSettings>;
}
