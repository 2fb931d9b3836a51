// Storing an interaction's result (src/interactions/turn.ts `conclude`): on the interaction the request
// read, with the time it has left, then the redirect that resumes the authorization; an interaction
// that expired while the request ran is not written again.
import { describe, expect, it } from '@jest/globals';
import type { Context } from 'koa';
import { conclude, type Turn } from '../../../src/interactions/turn.ts';
import { GatehouseError } from '../../../src/domain/errors.ts';

function turnWith(secondsLeft: number) {
  const saved: number[] = [];
  const interaction = {
    exp: Math.floor(Date.now() / 1000) + secondsLeft,
    returnTo: 'https://id.example.test/auth/uid-1',
    result: undefined as unknown,
    save: async (ttl: number) => {
      saved.push(ttl);
      return 'uid-1';
    },
  };
  const ctx = { status: 200, redirected: '', redirect(url: string) { this.redirected = url; } };
  const turn = { interaction, ctx: ctx as unknown as Context } as unknown as Turn;
  return { turn, interaction, ctx, saved };
}

describe('conclude', () => {
  it('stores the result with the time the interaction has left and redirects to its returnTo', async () => {
    const { turn, interaction, ctx, saved } = turnWith(300);
    await conclude(turn, { login: { accountId: 'a1' } });
    expect(interaction.result).toEqual({ login: { accountId: 'a1' } });
    expect(saved).toHaveLength(1);
    expect(saved[0]).toBeGreaterThanOrEqual(299);
    expect(saved[0]).toBeLessThanOrEqual(300);
    expect(ctx.status).toBe(303);
    expect(ctx.redirected).toBe('https://id.example.test/auth/uid-1');
  });

  it('refuses, and writes nothing, when the interaction expired meanwhile', async () => {
    const { turn, saved } = turnWith(0);
    const outcome = conclude(turn, { login: { accountId: 'a1' } });
    await expect(outcome).rejects.toBeInstanceOf(GatehouseError);
    await expect(outcome).rejects.toMatchObject({ status: 400 });
    expect(saved).toEqual([]);
  });
});
