import type { TypeCheck } from "@sinclair/typebox/compiler";
import type { TSchema, Static } from "@sinclair/typebox";
import { BadRequestError, PayloadTooLargeError } from "../errors";

/** A JSON body checked against a compiled schema: 400 naming the first few problems. */
export async function readChecked<S extends TSchema>(request: Request, check: TypeCheck<S>, what: string, maxBytes = 64 * 1024): Promise<Static<S>> {
  const body = await readJson(request, maxBytes);
  if (!check.Check(body)) throw new BadRequestError(`invalid ${what}`, { errors: [...check.Errors(body)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) });
  return body;
}

/** Reads a JSON body with a byte cap (the request body is not parsed by Elysia on upload routes). */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const len = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(len) && len > maxBytes) throw new PayloadTooLargeError(`JSON body over ${maxBytes} bytes`);
  // With a declared length under the cap, one read is cheaper than streaming chunk by chunk.
  if (Number.isFinite(len)) return parse(await request.text());
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    for await (const c of request.body) {
      total += c.byteLength;
      if (total > maxBytes) throw new PayloadTooLargeError(`JSON body over ${maxBytes} bytes`);
      chunks.push(c);
    }
  }
  return parse(Buffer.concat(chunks).toString("utf8"));
}

function parse(text: string): unknown {
  if (!text.trim()) throw new BadRequestError("empty body: expected JSON");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError("malformed JSON body");
  }
}
