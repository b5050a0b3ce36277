/**
 * The fake's random values: codes, tokens, consent ids and client credentials, from the CSPRNG like the real ones.
 */
import * as Crypto from "node:crypto"

import type { Fresh } from "./grants.js"

/** 32 random bytes, base64url: a code or a consent id. */
export const token = (): string => Crypto.randomBytes(32).toString("base64url")

/** `bytes` random bytes in hex: client ids and secrets, account ids. */
export const hex = (bytes: number): string => Crypto.randomBytes(bytes).toString("hex")

// One draw from the CSPRNG per token response: a syscall per value was the fake's largest cost under load.
/** The values one token response may need. */
export const tokenValues = (): Fresh => {
  const bytes = Crypto.randomBytes(80)
  return {
    accessToken: bytes.subarray(0, 32).toString("base64url"),
    refreshToken: bytes.subarray(32, 64).toString("base64url"),
    grantId: bytes.subarray(64).toString("hex")
  }
}
