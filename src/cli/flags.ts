// Reading the flags of a `gatehouse` command, the same way for every command. A flag given with an
// empty value (`--name ""`) is a value, not an absent flag: it reaches the check or the use case, which
// refuses it and names the flag, instead of silently keeping the old setting or dropping a filter.

/** A mistake in the command line itself: exit 2, before anything is opened. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

/** The flag's value as given (the empty string included); undefined when the flag is absent. */
export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};

/** The flag's value; absent or empty is a usage error. */
export const need = (flags: Flags, name: string): string => {
  const v = str(flags, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
};

/** Every value of a repeatable flag; undefined when the flag is absent. */
export const list = (flags: Flags, name: string): string[] | undefined => {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
};

/** `on` → true, `off` → false, absent → undefined; anything else (the empty string too) is a usage error. */
export const onOff = (flags: Flags, name: string): boolean | undefined => {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') throw new UsageError(`--${name} is on or off`);
  return v === 'on';
};
