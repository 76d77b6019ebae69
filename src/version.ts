/** medianode's version, advertised by every node and shown in /docs. */
export const VERSION = "0.1.0";
