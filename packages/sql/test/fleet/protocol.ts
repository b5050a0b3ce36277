/**
 * What the fleet test and its child processes say to each other: one JSON object per line, commands on the child's
 * stdin, messages on its stdout. Tokens never cross: children report a short SHA-256 of the access token.
 */
import * as Crypto from "node:crypto"

import { Schema } from "effect"

export class Config extends Schema.Class<Config>("Config")({
  mode: Schema.Literal("worker", "hold-lock"),
  databaseUrl: Schema.String,
  schema: Schema.String,
  account: Schema.String,
  lockTimeoutMillis: Schema.Int,
  oauthUrl: Schema.String,
  apiUrl: Schema.String,
  clientId: Schema.String,
  clientSecret: Schema.String,
  maxConnections: Schema.Int,
  /** Names the child's database connections, so that a test can terminate exactly those. */
  applicationName: Schema.String
}) {}

export const ConfigJson = Schema.parseJson(Config)

export const Command = Schema.Union(
  /** `calls` concurrent callers for each account (the configured one unless `accounts` names others). */
  Schema.TaggedStruct("Burst", { calls: Schema.Int, accounts: Schema.optional(Schema.Array(Schema.String)) }),
  Schema.TaggedStruct("Refresh", {}),
  Schema.TaggedStruct("Exit", {})
)
export type Command = typeof Command.Type
export const CommandJson = Schema.parseJson(Command)

export const Message = Schema.Union(
  Schema.TaggedStruct("Ready", { pid: Schema.Int }),
  Schema.TaggedStruct("Locked", { pid: Schema.Int }),
  Schema.TaggedStruct("BurstDone", {
    tokens: Schema.Array(Schema.String),
    failures: Schema.Array(Schema.String),
    millis: Schema.Number
  }),
  Schema.TaggedStruct("Refreshed", { version: Schema.Int, token: Schema.String }),
  Schema.TaggedStruct("Failed", { error: Schema.String })
)
export type Message = typeof Message.Type
export const MessageJson = Schema.parseJson(Message)

/** A short fingerprint of a token: enough to tell tokens apart, useless to call the API with. */
export const fingerprint = (token: string): string =>
  Crypto.createHash("sha256").update(token, "utf8").digest("hex").slice(0, 16)
