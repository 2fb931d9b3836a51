/** Current time in whole seconds since the epoch (`now` defaults to the system clock). */
export function epochSeconds(now?: Date): number {
  return Math.floor((now ?? new Date()).getTime() / 1000);
}
