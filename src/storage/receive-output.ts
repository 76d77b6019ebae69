import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BadRequestError } from "../errors";
import { streamToFile } from "../sources/upload";
import { containedPath } from "./paths";
import { CHECKSUM_MISMATCH } from "./worker-protocol";

/**
 * Writes one output a remote worker uploads into an attempt folder: streamed (the upload
 * path's own capped writer), hashed as it arrives, refused at `maxBytes` (413) and refused when its
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
  const part = join(o.partDir, `${crypto.randomUUID()}.part`);
  const hasher = new Bun.CryptoHasher("sha256");
  let ok = false;
  try {
    const bytes = await streamToFile(body ?? new Response("").body!, part, o.maxBytes, (chunk) => hasher.update(chunk));
    const got = hasher.digest("hex");
    if (got !== o.sha256.toLowerCase()) {
      throw new BadRequestError(`checksum mismatch for ${name}: received ${bytes} bytes with sha256 ${got}, expected ${o.sha256}`, { reason: CHECKSUM_MISMATCH });
    }
    await rename(part, file);
    ok = true;
    return bytes;
  } finally {
    if (!ok) await rm(part, { force: true });
  }
}
