import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BadRequestError } from "../errors";
import { tooLarge } from "../sources/upload";
import { containedPath } from "./paths";
import { CHECKSUM_MISMATCH } from "./worker-protocol";

/**
 * Writes one output a remote worker uploads into an attempt folder: streamed (each chunk
 * awaited on disk), hashed as it arrives, refused at `maxBytes` (413) and refused when its
 * sha256 is not the one announced (400, details.reason = checksum_mismatch: the worker resends).
 * The bytes land in a part file in `partDir` (outside the attempt folder) and are renamed into
 * place once whole and verified: a cut upload never leaves a short output, and an upload still
 * hanging when the attempt is committed cannot end up in out/.
 */
export async function receiveOutput(
  attemptDir: string,
  name: string,
  body: ReadableStream<Uint8Array> | null,
  o: { maxBytes: number; sha256: string; partDir: string },
): Promise<number> {
  const file = containedPath(attemptDir, name);
  await mkdir(dirname(file), { recursive: true });
  await mkdir(o.partDir, { recursive: true });
  const part = join(o.partDir, `${crypto.randomUUID()}.part`);
  const hasher = new Bun.CryptoHasher("sha256");
  const fh = await open(part, "w", 0o600);
  let bytes = 0;
  let ok = false;
  try {
    if (body) {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > o.maxBytes) {
          await reader.cancel();
          throw tooLarge(o.maxBytes);
        }
        hasher.update(value);
        await fh.write(value);
      }
    }
    await fh.close();
    const got = hasher.digest("hex");
    if (got !== o.sha256.toLowerCase()) {
      throw new BadRequestError(`checksum mismatch for ${name}: received ${bytes} bytes with sha256 ${got}, expected ${o.sha256}`, { reason: CHECKSUM_MISMATCH });
    }
    await rename(part, file);
    ok = true;
    return bytes;
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      await rm(part, { force: true });
    }
  }
}
