// The signing secrets of a cluster (SPEC §11): what one api node signs, another checks. Each
// key the operator set (MEDIANODE_PLAYBACK_SECRET, MEDIANODE_WEBHOOK_SECRET, the VAPID pair) is
// used as set; each one left unset is kept in the records (cluster_secrets), so every api node
// on one PostgreSQL uses the same without configuration, as the admin token is made once per
// cluster. The first node to start stores its data dir's file if it has one (an install from
// before the records held them: its playback URLs and webhook receivers keep verifying), else
// a new random one.
import { randomBytes } from "node:crypto";
import type { Config } from "../config/schema";
import { generateVapidKeys, type VapidKeys } from "../events/notifications/webpush";
import { existingSecret, SECRET_FILES } from "../storage/secret-file";
import type { Records } from "../store/records";

const random = () => randomBytes(32).toString("base64url");

type Signing = Pick<Config, "playbackSecret" | "webhookSecret" | "vapidPublicKey" | "vapidPrivateKey">;

/**
 * A signing secret of a config that went through shareSigningSecrets (the api role's, which
 * every route and service that signs is given). Unset means that step was skipped: a secret of
 * this node's own would sign what the other api nodes refuse, so it is an error, not a default.
 */
export function signingSecret(config: Signing, key: "playbackSecret" | "webhookSecret"): string {
  const v = config[key];
  if (!v) throw new Error(`${key} is unset: the api role fills it from the records (services/signing-secrets.ts)`);
  return v;
}

/** The Web Push key pair, as signingSecret. */
export function vapidKeys(config: Signing): VapidKeys {
  if (!config.vapidPublicKey || !config.vapidPrivateKey) throw new Error("the VAPID keys are unset: the api role fills them from the records (services/signing-secrets.ts)");
  return { publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey };
}

/** `config` with every signing secret filled in: as configured, else the cluster's. */
export async function shareSigningSecrets(config: Config, records: Pick<Records, "secrets">): Promise<Config> {
  const playbackSecret = config.playbackSecret ?? (await records.secrets.shared("playback", () => existingSecret(config.dataDir, SECRET_FILES.playback) ?? random()));
  const webhookSecret = config.webhookSecret ?? (await records.secrets.shared("webhook", () => existingSecret(config.dataDir, SECRET_FILES.webhook) ?? random()));
  let vapid: VapidKeys = { publicKey: config.vapidPublicKey ?? "", privateKey: config.vapidPrivateKey ?? "" };
  if (!vapid.publicKey || !vapid.privateKey) {
    const stored = await records.secrets.shared("vapid", () => existingSecret(config.dataDir, SECRET_FILES.vapid) ?? JSON.stringify(generateVapidKeys()));
    const parsed = JSON.parse(stored) as VapidKeys;
    vapid = { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
  }
  return { ...config, playbackSecret, webhookSecret, vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey };
}
