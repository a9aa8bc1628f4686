// The "stream" benchmark application: a 1 MiB response streamed from a generator as
// 16 chunks of 64 KiB, without a Content-Length (so HTTP/1.1 sends it chunked).
// Chunk i is 64 KiB of the letter 'a' + i, so a check can tell order and content.
// bench/peers/node-http.mjs (scenario "stream") answers the same bytes.
import type { Environ, StartResponse } from 'tsgi';

const CHUNK_BYTES = 64 * 1024;
const CHUNK_COUNT = 16;
const CHUNKS: Uint8Array[] = Array.from({ length: CHUNK_COUNT }, (_, i) => Buffer.alloc(CHUNK_BYTES, 0x61 + i));

function* chunks(): Generator<Uint8Array> {
  for (const chunk of CHUNKS) yield chunk;
}

export function application(_environ: Environ, startResponse: StartResponse): Generator<Uint8Array> {
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return chunks();
}
