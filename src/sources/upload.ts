import { rm } from "node:fs/promises";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import busboy from "busboy";
import { BadRequestError, PayloadTooLargeError } from "../errors";

/** FileSink buffer: written out whenever it fills, so memory stays at this, whatever the file size. */
const SINK_BUFFER_BYTES = 1024 * 1024;

/**
 * Where an upload's bytes go while they stream: a file on disk, or a multipart upload into
 * the media bucket (storage/). `abort` drops what was written (nothing of a refused upload stays).
 */
export interface UploadSink {
  /** A promise when the sink is full: the caller waits before the next chunk (backpressure). */
  write(chunk: Uint8Array): number | Promise<unknown>;
  end(): Promise<void>;
  abort(reason: Error): Promise<void>;
}

/**
 * A sink into `path`. Bun's FileSink buffers up to SINK_BUFFER_BYTES and writes when it fills, so
 * memory does not grow with the file size; it costs about half the CPU of one awaited
 * fs/promises write per chunk (a 3 MiB upload arrives in 7–50 chunks).
 */
export function fileSink(path: string): UploadSink {
  mkdirSync(dirname(path), { recursive: true });
  // Created here so the file is 0600 from the start; the sink then writes into it.
  closeSync(openSync(path, "w", 0o600));
  const sink = Bun.file(path).writer({ highWaterMark: SINK_BUFFER_BYTES });
  return {
    write: (chunk) => sink.write(chunk),
    async end() {
      await sink.end();
    },
    async abort() {
      await Promise.resolve(sink.end()).catch(() => {});
      await rm(path, { force: true });
    },
  };
}

/** Streams a body into a sink, refusing it at `maxBytes` while streaming (413 before the rest is read). */
export async function streamToSink(body: ReadableStream<Uint8Array>, sink: UploadSink, maxBytes: number, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
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
      // A sink that could not take it at once hands back a promise: wait for the disk or bucket.
      if (typeof queued !== "number") await queued;
    }
  } catch (e) {
    await sink.abort(e as Error);
    throw e;
  }
  await sink.end();
  return bytes;
}

/** Streams a body to `path` under the cap (a file sink). */
export async function streamToFile(body: ReadableStream<Uint8Array>, path: string, maxBytes: number, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
  return await streamToSink(body, fileSink(path), maxBytes, onChunk);
}

export function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`upload exceeds the limit of ${maxBytes} bytes (MEDIANODE_MAX_UPLOAD_BYTES)`, { maxBytes });
}

export interface MultipartResult {
  fields: Record<string, string>;
  file: { filename: string; mime: string; bytes: number } | null;
}

/**
 * Parses a multipart body with busboy, writing the one file part to a sink (made by `openSink`
 * when the part begins) as it arrives. Text fields may come before or after the file (curl -F
 * keeps the order given). On any refusal the sink is aborted before the promise rejects.
 */
export async function streamMultipart(
  body: ReadableStream<Uint8Array>,
  contentType: string,
  openSink: () => UploadSink,
  maxBytes: number,
): Promise<MultipartResult> {
  let sink: UploadSink | null = null;
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
      void (sink ? sink.abort(e) : Promise.resolve()).catch(() => {}).finally(() => reject(e));
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
      const out = (sink = openSink());
      writing = (async () => {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (failed) return;
          entry.bytes += chunk.byteLength;
          const queued = out.write(chunk);
          if (typeof queued !== "number") await queued;
        }
        if (!failed) await out.end();
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
