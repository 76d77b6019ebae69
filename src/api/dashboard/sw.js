// medianode dashboard service worker: shows a job's end as a notification when a Web Push
// arrives (issue #18). The payload is the event JSON the server encrypted to this browser's
// subscription (RFC 8291); the browser has already decrypted it. It controls no fetches.

self.addEventListener("push", (event) => {
  let e = null;
  try {
    e = event.data ? event.data.json() : null;
  } catch {
    e = null;
  }
  const status = e?.status ?? (e?.type ? String(e.type).replace(/^job\./, "") : "finished");
  const title = e?.jobId ? `medianode: job ${status}` : "medianode";
  const body = e?.jobId ? `${e.jobId} ${status === "completed" ? "is ready" : status}` : "A job has finished.";
  event.waitUntil(self.registration.showNotification(title, { body, tag: e?.jobId ?? "medianode", data: { jobId: e?.jobId ?? null }, icon: "/dashboard/icon.svg" }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = all.find((c) => new URL(c.url).pathname === "/");
      if (open) return open.focus();
      return self.clients.openWindow("/");
    })(),
  );
});
