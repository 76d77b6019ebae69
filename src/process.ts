import { existsSync } from "node:fs";

// util-linux setpriv sets PR_SET_PDEATHSIG before exec: the child is signalled when the
// thread that spawned it dies, including by SIGKILL (SPEC §8: no orphan ffmpeg within 5 s).
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/** argv that makes the child die with us (a no-op where setpriv is missing). */
export function dieWithParent(argv: string[], signal: "KILL" | "TERM" = "KILL"): string[] {
  return SETPRIV ? [SETPRIV, "--pdeathsig", signal, "--", ...argv] : argv;
}
