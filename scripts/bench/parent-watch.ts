// Preloaded (`node --import`) into every process the bench starts: when the bench dies without
// stopping it (killed, crashed), the IPC channel closes and this process shuts itself down with
// SIGTERM, its normal graceful stop. It changes nothing else in the process it is loaded into.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  });
}
