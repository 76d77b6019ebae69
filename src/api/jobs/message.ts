// A job request that came over the message bus (SPEC §13), made into a job by the same steps
// as a JSON POST /v1/jobs: the caller from its `authorization` header (token or JWT, scopes,
// tenancy), the one request check, the source check, services/jobs.submitJob. The message id
// is the idempotency key, so a redelivered message answers with the job it already made.
import { BadRequestError } from "../../errors";
import type { ServiceDeps } from "../../services/deps";
import { checkRequest, submitJob } from "../../services/jobs";
import { tokenCheck } from "../../services/tokens";
import type { IntakeMessage } from "../../bus/transport";
import type { Submitted } from "../../bus/intake";
import { bearerToken, principalOfToken, requireScope } from "../auth";
import { checkJobRequest, storedSourceFor } from "./intake";
import { jobView } from "./view";

const BODY_MAX = 2 * 1024 * 1024;
const KEY_MAX = 200;

/** The message's body as a job request, its id as the idempotency key (pure). */
export function requestOfMessage(m: Pick<IntakeMessage, "body" | "messageId">): unknown {
  if (m.body.byteLength > BODY_MAX) throw new BadRequestError(`the message body exceeds ${BODY_MAX} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(m.body));
  } catch (e) {
    throw new BadRequestError(`the message body is not JSON: ${(e as Error).message}`);
  }
  if (!m.messageId || body === null || typeof body !== "object" || Array.isArray(body)) return body;
  if (m.messageId.length > KEY_MAX) throw new BadRequestError(`the message id is longer than ${KEY_MAX} characters`);
  return { ...body, idempotencyKey: m.messageId };
}

export function messageSubmitter(deps: ServiceDeps): (m: IntakeMessage) => Promise<Submitted> {
  const tokens = tokenCheck(deps.records);
  return async (m) => {
    const who = await principalOfToken(tokens, bearerToken(m.authorization), deps.config.jwtSecret);
    requireScope(who, "jobs:write");
    const checked = checkRequest(checkJobRequest(requestOfMessage(m)));
    const source = await storedSourceFor(deps, checked.request, checked.options);
    const { row, created } = await submitJob(deps, { ...checked, source }, who);
    return { job: jobView(row, row.status === "queued" ? deps.positions.of(row.id) : null), created };
  };
}
