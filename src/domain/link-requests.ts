// What every "email me a link" page shares: the address parsed at the edge, the rate limits counted
// before the answer (DESIGN.md §12.12), one answer whatever the address, and the work after it.
import { z } from 'zod';
import type { Limit } from './authentication.ts';
import { badRequest, GatehouseError } from './errors.ts';
import type { RequestInfo } from './events.ts';
import { clientNetwork } from './network.ts';

/** Runs work after the answer was sent; failures are logged, never shown (the answer is already out). */
export type Defer = (label: string, work: () => Promise<void>) => void;

export interface LinkRequestLimits {
  /** link requests per address per window. */
  perEmail: number;
  /** link requests per client IP per window. */
  perIp: number;
  windowSeconds: number;
}

export const DEFAULT_LINK_REQUEST_LIMITS: LinkRequestLimits = { perEmail: 5, perIp: 30, windowSeconds: 900 };

export type LinkRequestOutcome = { ok: true } | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

const emailSchema = z.string().trim().toLowerCase().email().max(320);

/** The address as typed, normalised; a clear 400 when it is not an address at all. */
export function parseEmailAddress(input: string): string {
  const parsed = emailSchema.safeParse(input);
  if (!parsed.success) throw badRequest('Enter the email address of your account, for example name@example.com.', 'invalid_email');
  return parsed.data;
}

export const linkInvalid = () =>
  new GatehouseError('link_invalid', 410, 'This link has expired, was already used, or was replaced by a newer one. Request a new link.');

/** Counts one link request for the address and the IP before anything else (DESIGN.md §12.12). */
export async function admitLinkRequest(limit: Limit, limits: LinkRequestLimits, scope: string, email: string, request: RequestInfo): Promise<LinkRequestOutcome> {
  const [perIp, perEmail] = await Promise.all([
    limit(`${scope}:ip:${clientNetwork(request.ip)}`, limits.perIp, limits.windowSeconds),
    limit(`${scope}:email:${email}`, limits.perEmail, limits.windowSeconds),
  ]);
  if (perIp.allowed && perEmail.allowed) return { ok: true };
  return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(perIp.retryAfterSeconds, perEmail.retryAfterSeconds) };
}

