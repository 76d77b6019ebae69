/**
 * Output options that drop what a source says about itself (GPS location, comments, device,
 * creation time, chapters, per-stream tags) from a video or audio output, as images already
 * drop EXIF (issue #12 point 11). Placed before an output's file name; applies to that output.
 */
export const STRIP_METADATA: readonly string[] = ["-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1"];
