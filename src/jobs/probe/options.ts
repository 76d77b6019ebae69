import { Type as T, type Static } from "@sinclair/typebox";

export const ProbeOptions = T.Object({}, { additionalProperties: false, description: "probe takes no options" });
export type ProbeOptions = Static<typeof ProbeOptions>;
