// Token scopes (SPEC §7), one list for the store, the API and the CLI.
export const SCOPES = ["admin", "jobs:write", "jobs:read", "worker"] as const;
export type Scope = (typeof SCOPES)[number];
