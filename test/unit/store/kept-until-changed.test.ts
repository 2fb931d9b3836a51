// A read kept in memory under a change generation: served again while the generation stays, read again
// once it moves (a change announced on any instance) or when no generation can be known.
import { describe, expect, it } from '@jest/globals';
import { keptUntilChanged } from '../../../src/store/kept-until-changed.ts';

function source() {
  let reads = 0;
  return { read: async () => `value ${++reads}`, reads: () => reads };
}

describe('keptUntilChanged', () => {
  it('reads once while the generation stays, and again once it moves', async () => {
    let generation = 3;
    const s = source();
    const get = keptUntilChanged(s.read, 'upstream_idps', { generation: () => generation });
    expect(await get()).toBe('value 1');
    expect(await get()).toBe('value 1');
    generation++;
    expect(await get()).toBe('value 2');
    expect(s.reads()).toBe(2);
  });

  it('reads every time when no generation can be known', async () => {
    const s = source();
    const get = keptUntilChanged(s.read, 'upstream_idps', { generation: async () => undefined });
    await get();
    await get();
    expect(s.reads()).toBe(2);
  });
});
