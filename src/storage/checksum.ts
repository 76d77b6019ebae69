import { open } from "node:fs/promises";

/** Hex digests of a file in one chunked pass (memory does not grow with its size). */
export async function hashFile<A extends "sha256" | "md5">(path: string, algorithms: readonly A[]): Promise<Record<A, string>> {
  const hashers = algorithms.map((a) => [a, new Bun.CryptoHasher(a)] as const);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      for (const [, h] of hashers) h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return Object.fromEntries(hashers.map(([a, h]) => [a, h.digest("hex")])) as Record<A, string>;
}

/** Hex sha256 of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  return (await hashFile(path, ["sha256"])).sha256;
}
