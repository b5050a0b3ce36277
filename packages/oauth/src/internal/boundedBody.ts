import { Effect, Stream } from "effect"

import type { TransportError } from "../OAuthError.js"

/** Decodes UTF-8 as `Response.text()` does: a byte-order mark is dropped, invalid bytes become U+FFFD. */
const decoder = new TextDecoder()

/**
 * A response body read up to `limit` bytes: chunks are kept until the limit, then reading stops (`push` says so) and
 * the body is marked truncated, so an oversized or endless answer costs at most `limit` bytes of memory. One per
 * response, written only by the reader of that response.
 */
export class BoundedBody {
  private readonly chunks: Array<Uint8Array> = []
  private length = 0
  private overflowed = false

  constructor(readonly limit: number) {}

  /** Keeps `chunk`; false once the body went past the limit (the part beyond it is dropped): stop reading. */
  push(chunk: Uint8Array): boolean {
    const room = this.limit - this.length
    if (chunk.length <= room) {
      this.chunks.push(chunk)
      this.length += chunk.length
      return true
    }
    if (room > 0) this.chunks.push(chunk.subarray(0, room))
    this.length = this.limit
    this.overflowed = true
    return false
  }

  /** True when the body was longer than the limit: `text` holds only its first `limit` bytes. */
  get truncated(): boolean {
    return this.overflowed
  }

  get text(): string {
    if (this.chunks.length === 1) return decoder.decode(this.chunks[0])
    const all = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.chunks) {
      all.set(chunk, offset)
      offset += chunk.length
    }
    return decoder.decode(all)
  }
}

/** Reads `stream` into a `BoundedBody`, cancelling it as soon as the limit is passed. */
export const readBounded = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  limit: number,
  onError: (error: E) => TransportError
): Effect.Effect<BoundedBody, TransportError> =>
  Effect.suspend(() => {
    const body = new BoundedBody(limit)
    return stream.pipe(
      Stream.runForEachWhile((chunk) => Effect.sync(() => body.push(chunk))),
      Effect.mapError(onError),
      Effect.as(body)
    )
  })
