// Single-use email links (DESIGN.md §9): 32 random bytes in the URL, only their SHA-256 digest in
// email_tokens; each link serves one purpose, expires (per-purpose lifetime), and is spent by one
// conditional UPDATE, so two clicks at the same moment cannot both use it (§12.3). Only the newest
// link of a purpose for an owner works ("resend"): issuing spends the older unused ones, and the
// store refuses a link that has a newer sibling even when two were issued at the same moment.
import { randomBytes } from 'node:crypto';
import type { Repos } from '../store/repos.ts';
import { sha256Hex } from './digest.ts';

export const LINK_PURPOSES = ['password_reset', 'email_verification', 'invitation', 'mfa_reset', 'email_change'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

/**
 * Lifetimes. A link that lets someone into an account (new password, MFA reset) lasts 30 minutes;
 * confirming an address grants nothing and an invitation waits for a person to notice it, so those last longer.
 * A new address becomes the account's way back in (password reset), so confirming one is kept short,
 * with room for a slow mailbox.
 */
export const DEFAULT_LINK_TTL_SECONDS = {
  password_reset: 30 * 60,
  mfa_reset: 30 * 60,
  email_change: 60 * 60,
  email_verification: 24 * 3600,
  invitation: 72 * 3600,
} satisfies Record<LinkPurpose, number>;

/**
 * Where each link lands: src/self-service/ serves password reset, email verification, the new address
 * of an email change and the invitation page (set a first password); src/account/ the MFA-reset
 * confirmation.
 */
export const LINK_PATHS = {
  password_reset: '/password/reset/',
  invitation: '/password/set/',
  email_verification: '/email/verify/',
  mfa_reset: '/account/mfa/reset/',
  email_change: '/email/change/',
} satisfies Record<LinkPurpose, string>;

/**
 * Who a link is for: one account (and the address it was sent to), or an address owning several
 * accounts (forgotten password: the user picks one of `accountIds` after opening the link).
 */
export type LinkOwner = { accountId: string; email: string } | { email: string; accountIds: string[] };

export interface IssuedLink {
  /** the secret part, shown once in the mail; never stored. */
  token: string;
  /** the absolute URL to mail. */
  url: string;
  expiresAt: Date;
}

export interface LinkGrant {
  accountId: string | null;
  /** accounts the link may act on: [accountId] for an account link, the listed ones for an address link. */
  accountIds: string[];
  email: string | null;
  detail: Record<string, unknown>;
  expiresAt: Date;
}

/** 32 bytes in base64url: 43 characters. Anything else is refused before a database lookup. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
export const isWellFormedToken = (token: string): boolean => TOKEN_FORMAT.test(token);

type TokenRow = NonNullable<Awaited<ReturnType<Repos['emailTokens']['find']>>>;

function grantOf(row: TokenRow): LinkGrant {
  const { accountIds, ...detail } = row.detail as Record<string, unknown> & { accountIds?: unknown };
  const listed = Array.isArray(accountIds) ? accountIds.filter((id): id is string => typeof id === 'string') : [];
  return {
    accountId: row.accountId,
    accountIds: row.accountId ? [row.accountId] : listed,
    email: row.email,
    detail,
    expiresAt: row.expiresAt,
  };
}

export function createOneTimeLinks(deps: {
  emailTokens: Pick<Repos['emailTokens'], 'create' | 'consume' | 'findUsable' | 'spendUnused'>;
  /** the public base URL (issuer) links start with. */
  baseUrl: string;
  ttlSeconds?: Partial<Record<LinkPurpose, number>>;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const ttl = { ...DEFAULT_LINK_TTL_SECONDS, ...deps.ttlSeconds };

  return {
    ttlSeconds: (purpose: LinkPurpose): number => ttl[purpose],

    /** A fresh link; the owner's earlier unused links of this purpose stop working. */
    async issue(purpose: LinkPurpose, owner: LinkOwner, detail: Record<string, unknown> = {}): Promise<IssuedLink> {
      const email = owner.email.trim().toLowerCase();
      await deps.emailTokens.spendUnused(purpose, 'accountId' in owner ? { accountId: owner.accountId } : { email });
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + ttl[purpose] * 1000);
      await deps.emailTokens.create({
        accountId: 'accountId' in owner ? owner.accountId : null,
        email,
        purpose,
        tokenHash: sha256Hex(token),
        expiresAt,
        detail: 'accountIds' in owner ? { ...detail, accountIds: owner.accountIds } : detail,
      });
      return { token, url: `${deps.baseUrl}${LINK_PATHS[purpose]}${token}`, expiresAt };
    },

    /** What a link would allow, if it is usable now; spends nothing (for the page a link opens). */
    async peek(purpose: LinkPurpose, token: string): Promise<LinkGrant | null> {
      if (!isWellFormedToken(token)) return null;
      const row = await deps.emailTokens.findUsable(sha256Hex(token), purpose, now());
      return row ? grantOf(row) : null;
    },

    /** Spends every unused link of `purpose` for the account (links mailed to an address it no longer has). */
    async revoke(purpose: LinkPurpose, owner: { accountId: string }): Promise<number> {
      return deps.emailTokens.spendUnused(purpose, owner);
    },

    /** Spends the link: exactly one caller gets its grant; null when unknown, expired, used or replaced. */
    async consume(purpose: LinkPurpose, token: string): Promise<LinkGrant | null> {
      if (!isWellFormedToken(token)) return null;
      const row = await deps.emailTokens.consume(sha256Hex(token), purpose, now());
      return row ? grantOf(row) : null;
    },
  };
}

export type OneTimeLinks = ReturnType<typeof createOneTimeLinks>;
