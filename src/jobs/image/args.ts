import type { VariantPlan } from "../../media/image";
import { InvalidInputError } from "../../errors";
import { HEIC_CAPABILITY } from "../../media/heif";
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

/**
 * What the source itself asks of the node (joined to options.require at submit): a HEIC photo
 * needs a node that advertises the heic capability (libheif installed), so one without it never
 * takes the job; the job waits for such a node like any other requirement.
 */
export function imageSourceRequirement(src: { heic?: boolean }): string[] {
  return src.heic ? [HEIC_CAPABILITY] : [];
}
