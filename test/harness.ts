// Imported by every test file: fails any test during which an unhandled rejection or uncaught
// exception fires (node's runner runs each file in its own process, so this covers the file).
import { afterEach } from 'node:test';

const seen: string[] = [];
process.on('unhandledRejection', (reason) => {
  seen.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});
process.on('uncaughtException', (err) => {
  seen.push(`uncaughtException: ${err.stack ?? err.message}`);
});

afterEach(async () => {
  // let rejections of the test's last microtasks surface first
  await new Promise((r) => setImmediate(r));
  if (seen.length > 0) {
    const all = seen.splice(0);
    throw new Error(`unhandled errors during the test:\n${all.join('\n')}`);
  }
});
