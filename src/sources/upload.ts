import { open } from "node:fs/promises";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import busboy from "busboy";
import { BadRequestError, PayloadTooLargeError } from "../errors";

/** FileSink buffer: written out whenever it fills, so memory stays at this, whatever the file size. */
const SINK_BUFFER_BYTES = 1024 * 1024;

/**
 * Streams a body to `path`, refusing it at `maxBytes` while streaming (413 before the rest
 * is read). Bun's FileSink buffers up to SINK_BUFFER_BYTES and writes when it fills, so
 * memory does not grow with the file size; it costs about half the CPU of one awaited
 * fs/promises write per chunk (a 3 MiB upload arrives in 7–50 chunks).
 */
export async function streamToFile(body: ReadableStream<Uint8Array>, path: string, maxBytes: number, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  // Created here so the file is 0600 from the start; the sink then writes into it.
  closeSync(openSync(path, "w", 0o600));
  const sink = Bun.file(path).writer({ highWaterMark: SINK_BUFFER_BYTES });
  let bytes = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      onChunk?.(value);
      const queued = sink.write(value);
      // A sink that could not write at once hands back a promise: wait for the disk.
      if (typeof queued !== "number") await queued;
    }
  } finally {
    await sink.end();
  }
  return bytes;
}

export function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`upload exceeds the limit of ${maxBytes} bytes (MEDIANODE_MAX_UPLOAD_BYTES)`, { maxBytes });
}

export interface MultipartResult {
  fields: Record<string, string>;
  file: { filename: string; mime: string; bytes: number } | null;
}

/**
 * Parses a multipart body with busboy, writing the one file part to `path` as it arrives.
 * Text fields may come before or after the file (curl -F keeps the order given).
 */
export async function streamMultipart(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  path: string,
  maxBytes: number,
): Promise<MultipartResult> {
  mkdirSync(dirname(path), { recursive: true });
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: { "content-type": contentType }, limits: { files: 1, fields: 20, fieldSize: 64 * 1024, fileSize: maxBytes, parts: 24 } });
  } catch (e) {
    throw new BadRequestError(`malformed multipart request: ${(e as Error).message}`);
  }
  const fields: Record<string, string> = {};
  let file: MultipartResult["file"] = null;
  let writing: Promise<void> = Promise.resolve();
  const src = Readable.fromWeb(body as import("node:stream/web").ReadableStream);
  return await new Promise<MultipartResult>((resolve, reject) => {
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      src.unpipe(bb);
      src.destroy();
      reject(e);
    };
    bb.on("field", (name, value, info) => {
      if (info.valueTruncated) return fail(new BadRequestError(`field ${name} is too long`));
      fields[name] = value;
    });
    bb.on("file", (name, stream, info) => {
      if (name !== "file") {
        stream.resume();
        return fail(new BadRequestError(`unexpected file field "${name}" (use -F file=@path)`));
      }
      const entry = { filename: info.filename ?? "upload", mime: info.mimeType ?? "application/octet-stream", bytes: 0 };
      file = entry;
      writing = (async () => {
        const fh = await open(path, "w", 0o600);
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            entry.bytes += chunk.byteLength;
            await fh.write(chunk);
          }
        } finally {
          await fh.close();
        }
      })();
      stream.on("limit", () => fail(tooLarge(maxBytes)));
      writing.catch((e: Error) => fail(e));
    });
    bb.on("filesLimit", () => fail(new BadRequestError("only one file per request")));
    bb.on("fieldsLimit", () => fail(new BadRequestError("too many fields")));
    bb.on("error", (e: Error) => fail(new BadRequestError(`malformed multipart request: ${e.message}`)));
    bb.on("close", () => {
      writing.then(() => !failed && resolve({ fields, file }), (e: Error) => fail(e));
    });
    src.on("error", (e) => fail(new BadRequestError(`upload interrupted: ${e.message}`)));
    src.pipe(bb);
  });
}
