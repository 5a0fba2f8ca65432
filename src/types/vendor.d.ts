/** Types of the two small CommonJS libraries the HTTP kernel uses (they ship none). */
declare module 'parseurl' {
  import type { IncomingMessage } from 'node:http';
  import type { Url } from 'node:url';
  function parseurl(req: IncomingMessage): Url | undefined;
  export default parseurl;
}

declare module 'mime-types' {
  /** The full Content-Type for a type or extension, with its default charset added; false if unknown. */
  function contentType(type: string): string | false;
  const mimeTypes: { contentType: typeof contentType };
  export default mimeTypes;
}
