import type { VariantPlan } from "../../media/image";
import { InvalidInputError } from "../../errors";
import type { ResolvedImageOptions } from "./options";

const EXT = { webp: "webp", avif: "avif", jpeg: "jpg", png: "png" } as const;

/** Options → the sharp plan (pure): one output file per variant, names unique. */
export function imagePlan(o: ResolvedImageOptions): VariantPlan[] {
  const seen = new Set<string>();
  return o.variants.map((v) => {
    if (seen.has(v.name)) throw new InvalidInputError(`duplicate variant name "${v.name}"`);
    seen.add(v.name);
    return { name: v.name, size: v.size, format: v.format, quality: v.quality, file: `${v.name}.${EXT[v.format]}` };
  });
}
