// Every service subcommand runs in the foreground: start it, wait for SIGINT or SIGTERM, close
// it cleanly, exit 0.
export async function runUntilStopped(service: { close(): Promise<void> }): Promise<number> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await service.close();
  return 0;
}
