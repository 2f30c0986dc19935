// Small durable-filesystem helpers for the WAL.
import { open } from 'node:fs/promises';

/** Fsyncs a directory, making file creations, renames and deletions in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Cuts a file to `size` bytes and fsyncs it, so the cut cannot be undone by a crash. */
export async function truncateDurably(path: string, size: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
