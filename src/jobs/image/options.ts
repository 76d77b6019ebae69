import { Type as T, type Static } from "@sinclair/typebox";

export const ImageVariant = T.Object(
  {
    name: T.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,31}$", description: "File stem of the variant (e.g. thumb)" }),
    size: T.Integer({ minimum: 16, maximum: 8192, description: "Longest edge in pixels; never enlarged" }),
    format: T.Optional(T.Union([T.Literal("webp"), T.Literal("avif"), T.Literal("jpeg"), T.Literal("png")], { default: "webp" })),
    quality: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 80 })),
  },
  { additionalProperties: false },
);

export const ImageOptions = T.Object(
  {
    variants: T.Optional(T.Array(ImageVariant, {
      minItems: 1,
      maxItems: 10,
      description: "Variants to write, all from one decode",
      default: [
        { name: "thumb", size: 256, format: "webp", quality: 80 },
        { name: "preview", size: 1440, format: "webp", quality: 82 },
      ],
    })),
  },
  { additionalProperties: false },
);
type VariantInput = Static<typeof ImageVariant>;
export type ImageVariantResolved = Required<VariantInput>;
export interface ResolvedImageOptions {
  variants: ImageVariantResolved[];
}
export const DEFAULT_VARIANTS: ImageVariantResolved[] = [
  { name: "thumb", size: 256, format: "webp", quality: 80 },
  { name: "preview", size: 1440, format: "webp", quality: 82 },
];

export function imageDefaults(input: Static<typeof ImageOptions>): ResolvedImageOptions {
  const variants = input.variants ?? DEFAULT_VARIANTS;
  return { variants: variants.map((v) => ({ format: "webp" as const, quality: 80, ...v })) };
}
