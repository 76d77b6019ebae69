// Named probe shapes built from the corpus MANIFEST (as Immich's media.stub names its
// streams), for the pure argument-builder tests: no ffprobe run needed.
import type { ProbeResult, ProbeStream } from "../../src/media/probe";
import { entry, type ManifestEntry } from "./media";

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [a, b] = r.split("/").map(Number);
  return a && b ? Math.round((a / b) * 1000) / 1000 : null;
}

/** The MANIFEST's ffprobe summary as the ProbeResult probeFile would return. */
export function probeFromManifest(e: ManifestEntry): ProbeResult {
  const x = e.expect;
  const d = x.durationSec ?? null;
  const streams: ProbeStream[] = (x.streams ?? []).map((s) => {
    const base: ProbeStream = { index: s.index, type: s.type, codec: s.codec === "unknown" ? null : s.codec };
    if (s.type === "video") {
      Object.assign(base, { width: s.width ?? 0, height: s.height ?? 0, fps: rate(s.avgFrameRate), pixFmt: s.pixFmt ?? null, fieldOrder: s.fieldOrder ?? null, attachedPic: !!s.attachedPic });
      if (x.rotation) base.rotation = x.rotation;
    }
    if (s.type === "audio") Object.assign(base, { sampleRate: s.sampleRate ?? 0, channels: s.channels ?? 0, channelLayout: s.channelLayout ?? null });
    return base;
  });
  return {
    format: x.format_name ?? "unknown",
    durationSec: d,
    bitrate: d ? Math.round((e.bytes * 8) / d) : null,
    sizeBytes: e.bytes,
    streams,
    ...(x.tags ? { tags: x.tags } : {}),
  };
}

const from = (file: string) => probeFromManifest(entry(file));

export const video1080p = from("video-h264-aac-long-363s-1080p.mp4");
export const video960x540 = from("video-h264-aac-faststart-960x540.mp4");
export const video240p = from("video-h264-aac-moov-at-end-320x240.mp4");
export const videoRotated90 = from("video-h264-aac-rotated90.mp4");
export const videoHevc10bitRotatedMinus90 = from("video-hevc-10bit-dolbyvision-rotated-90.MOV");
export const videoPortrait = from("video-h264-aac-portrait-720x1080.mp4");
export const videoNoAudio = from("video-h264-no-audio.mp4");
export const videoInterlaced = from("video-mpegts-h264-ac3-1080i.mts");
export const videoOddNoAudio = from("video-webm-vp9-odd-161x121-no-audio.webm");
export const videoTiny = from("video-h264-aac-tiny-10x6.mp4");
export const videoBogusFps = from("video-mkv-h264-ac3.mkv");
export const videoAudioFirst = from("video-mov-h264-aac.mov");
export const videoOggWithDataStream = from("video-ogv-theora-vorbis.ogv");
export const video60fps6ch = from("video-webm-vp9-vorbis-6ch.webm");
export const audioMp3Cover = from("audio-mp3-id3v2-cover-art.mp3");
export const audioFlacPicture = from("audio-flac-with-picture.flac");
export const audioWavMono = from("audio-wav-pcm-s16le.wav");
export const audioOpus = from("audio-ogg-opus.opus");

/** A copy with a different format bitrate (bits/s), for the remux threshold. */
export function withBitrate(p: ProbeResult, bitrate: number): ProbeResult {
  return { ...p, bitrate };
}
/** A copy with format tags. */
export function withTags(p: ProbeResult, tags: Record<string, string>): ProbeResult {
  return { ...p, tags };
}

/** A copy whose first video stream carries this colour signalling (HDR fixtures). */
export function withVideoColor(p: ProbeResult, c: Partial<ProbeStream>): ProbeResult {
  let done = false;
  return { ...p, streams: p.streams.map((s) => (s.type === "video" && !done ? ((done = true), { ...s, ...c }) : s)) };
}
const BT2020 = { colorPrimaries: "bt2020", colorSpace: "bt2020nc", colorRange: "tv" };
/** The corpus iPhone clip as ffprobe reports it: HLG frames, Dolby Vision 8.4 record. */
export const videoDolbyVision84 = withVideoColor(videoHevc10bitRotatedMinus90, {
  ...BT2020, colorTransfer: "arib-std-b67", profile: "Main 10",
  dolbyVision: { profile: 8, level: 2, compatibilityId: 4, baseLayer: true, enhancementLayer: false },
});
/** 1080p HDR10 (PQ) and HLG shapes, and Dolby Vision profile 5 (no compatible base layer). */
export const videoHdr10 = withVideoColor(video1080p, { ...BT2020, colorTransfer: "smpte2084", pixFmt: "yuv420p10le", codec: "hevc" });
export const videoHlg = withVideoColor(video1080p, { ...BT2020, colorTransfer: "arib-std-b67", pixFmt: "yuv420p10le", codec: "hevc" });
export const videoDolbyVision5 = withVideoColor(video1080p, {
  pixFmt: "yuv420p10le", codec: "hevc",
  dolbyVision: { profile: 5, level: 6, compatibilityId: 0, baseLayer: true, enhancementLayer: false },
});
