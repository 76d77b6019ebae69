import { IMAGE_MIME, renderVariants } from "../../media/image";
import type { Pipeline } from "../pipeline";
import { imagePlan } from "./args";
import { ImageOptions, imageDefaults, type ResolvedImageOptions } from "./options";

export const imagePipeline: Pipeline<typeof ImageOptions, ResolvedImageOptions> = {
  type: "image",
  options: ImageOptions,
  defaults: imageDefaults,
  accepts: ["image"],
  async run(ctx) {
    const plan = imagePlan(ctx.options);
    ctx.progress({ progress: 5 });
    const r = await renderVariants(ctx.input, ctx.outDir, plan, { maxPixels: ctx.media.maxPixels, heifConvert: ctx.media.heifConvert, ffmpeg: ctx.media.ffmpeg, signal: ctx.signal });
    return {
      outputs: r.variants.map((v) => ({ name: v.plan.file, mime: IMAGE_MIME[v.plan.format], bytes: v.bytes, width: v.width, height: v.height })),
      result: { thumbhash: r.thumbhash, width: r.source.width, height: r.source.height, format: r.source.format, pages: r.source.pages, hasAlpha: r.source.hasAlpha },
    };
  },
};
