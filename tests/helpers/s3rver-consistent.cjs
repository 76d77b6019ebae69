// s3rver, made read-after-write consistent as S3 is, then started by its own CLI (same
// arguments). Its filesystem store answers a PUT once it has *queued* the bytes for the file
// (a Buffer body: writeStream.end() without waiting; a stream: the hashing transform's finish,
// not the file's), so a HEAD or GET right after a completed PUT could see 0 bytes; under the
// parallel suite it did. This waits, after each putObject, until the file holds what was put.
"use strict";
const fs = require("node:fs");
const FilesystemStore = require("s3rver/lib/stores/filesystem");

const put = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function (object) {
  const r = await put.call(this, object);
  const file = this.getResourcePath(object.bucket, object.key, "object");
  for (let i = 0; i < 500; i++) {
    let size = -1;
    try {
      size = fs.statSync(file).size;
    } catch {}
    if (size === r.size) break;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  return r;
};

require("s3rver/bin/s3rver.js");
