/**
 * The fault matrix: every fault against every operation, with the expected outcome written down in `rows` (success
 * after N requests to the faulted endpoint, or the error's `_tag`, or "n/a" with the reason), checked together with
 * three invariants per scenario:
 *
 * - the call ends within the row's time window, measured on the `TestClock` inside the calling fiber: a row that must not
 *   wait ends before the shortest backoff could have passed, a row that must wait ends neither before its wait nor
 *   long after it, so every window fails when a wait is added or skipped;
 * - an authorization code is never sent twice, except after answers proving it was not used (429, 502/503/504);
 * - the stored refresh token is the one the fake accepts, or the account is marked for re-authorization for a
 *   documented reason (`oauthTokenRefresh` stores nothing: there the check is whether the presented token survived).
 *
 * The fake rotates refresh tokens in every scenario. Library defaults apply: 10 s per attempt, at most 5 attempts with
 * exponential backoff from 250 ms (jittered by ±20%, capped at 5 s), 429 waits honoured up to 60 s. The clock driver
 * moves in 50 ms steps, so windows allow 150 ms beyond the wait for the steps taken while I/O settles. Each suite prints
 * `<operation>: <passed>/<total> scenarios passed`; `RELIABILITY_MATRIX=1` also prints the table in Markdown.
 */
import type { TokenEvent } from "@dropbox-sign-effect/oauth"
import {
  DropboxSignHttpClient,
  OAuthApi,
  OAuthSchema,
  OAuthState,
  TokenManager,
  TokenStore
} from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, TestTime } from "@dropbox-sign-effect/testing"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Queue, Redacted, TestClock } from "effect"

import * as Support from "./support.js"

const { Fault } = FakeDropboxSign

// -----------------------------------------------------------------------------
// the table
// -----------------------------------------------------------------------------

const operations = [
  "oauthTokenGenerate",
  "oauthTokenRefresh",
  "accessToken (foreground, expired)",
  "accessToken (background, SWR)",
  "DropboxSignHttpClient request"
] as const

type Operation = typeof operations[number]

/**
 * `Ok`: success after `requests` requests reached the faulted endpoint (the code exchange for `oauthTokenGenerate`,
 * the refresh endpoint otherwise). `Fails`: the error's `_tag` after `requests` requests. For the background column
 * the outcome is that of the refresh running behind the caller, who always gets the still-valid token at once.
 */
type Expected =
  | { readonly _tag: "Ok"; readonly requests: number }
  | { readonly _tag: "Fails"; readonly error: string; readonly requests: number }
  | { readonly _tag: "NotApplicable"; readonly why: string }

const ok = (requests: number): Expected => ({ _tag: "Ok", requests })
const fails = (error: string, requests: number): Expected => ({ _tag: "Fails", error, requests })
const na = (why: string): Expected => ({ _tag: "NotApplicable", why })

const describeExpected = (expected: Expected): string => {
  switch (expected._tag) {
    case "Ok":
      return `ok after ${expected.requests} request${expected.requests === 1 ? "" : "s"}`
    case "Fails":
      return `${expected.error} after ${expected.requests} request${expected.requests === 1 ? "" : "s"}`
    case "NotApplicable":
      return `n/a (${expected.why})`
  }
}

interface Row {
  readonly fault: string
  readonly inject: FakeDropboxSign.Fault
  /** How many times the fault is queued (default once: a blip). */
  readonly times?: number
  /** The fault hits `GET /v3/account` instead of the token endpoint. */
  readonly onApiCall?: boolean
  /** The server processed the request but its answer never reached the client: a rotated token is lost. */
  readonly lossy: boolean
  /** The answer proves the request was not processed, so sending the same code again is safe. */
  readonly resendable: boolean
  readonly window: Window
  readonly expected: Readonly<Record<Operation, Expected>>
}

/** How long a scenario may take on the `TestClock`, in milliseconds. */
interface Window {
  readonly min: number
  readonly max: number
}

/** Slack for the clock driver's steps taken while I/O settles: three of its 50 ms steps. */
const slack = 150

/** No wait at all: ends before the shortest backoff (250 ms jittered down to 200 ms) could pass. */
const noWait: Window = { min: 0, max: slack }

/** `n` backoffs of the default schedule: 250 ms doubling, each jittered by ±20%. */
const backoffs = (n: number): Window => {
  const total = Array.from({ length: n }, (_, i) => 250 * 2 ** i).reduce((a, b) => a + b, 0)
  return { min: 0.8 * total, max: 1.2 * total + slack }
}

/** A wait the server asked for (or the timeout), at least `min` and at most `max` ms. */
const waits = (min: number, max: number): Window => ({ min, max: max + slack })

const columns = (
  generate: Expected,
  refresh: Expected,
  foreground: Expected,
  background: Expected,
  http: Expected
): Readonly<Record<Operation, Expected>> => ({
  "oauthTokenGenerate": generate,
  "oauthTokenRefresh": refresh,
  "accessToken (foreground, expired)": foreground,
  "accessToken (background, SWR)": background,
  "DropboxSignHttpClient request": http
})

const everywhere = (expected: Expected) => columns(expected, expected, expected, expected, expected)

/** The API-call fault: the token endpoint operations make no API call. */
const noApiCall = na("no API call")

// A 200 the server produced without processing the request (`RawBody`): nothing was consumed or rotated.
const rawToken = (fields: Record<string, unknown>) =>
  Fault.RawBody({
    status: 200,
    contentType: "application/json",
    body: JSON.stringify({
      access_token: "raw-access-token-never-issued",
      token_type: "Bearer",
      refresh_token: "raw-refresh-token-never-issued",
      expires_in: 3600,
      ...fields
    })
  })

const rows: ReadonlyArray<Row> = [
  {
    fault: "500",
    inject: Fault.Status({ status: 500 }),
    lossy: false,
    resendable: false,
    window: noWait,
    // Outcome-unknown: OAuthApi returns it at once; the manager re-reads the store and tries once more.
    expected: columns(fails("ServerError", 1), fails("ServerError", 1), ok(2), ok(2), ok(2))
  },
  ...[502, 503, 504].map((status): Row => ({
    fault: String(status),
    inject: Fault.Status({ status }),
    lossy: false,
    resendable: true,
    window: backoffs(1),
    expected: everywhere(ok(2))
  })),
  {
    fault: "503 persistent (10×)",
    inject: Fault.Status({ status: 503 }),
    times: 10,
    lossy: false,
    resendable: true,
    window: backoffs(4),
    expected: everywhere(fails("ServerError", 5))
  },
  {
    fault: "429 Retry-After: 2",
    inject: Fault.RateLimited({ retryAfter: 2 }),
    lossy: false,
    resendable: true,
    window: waits(2_000, 2_000),
    expected: everywhere(ok(2))
  },
  {
    fault: "429 X-Ratelimit-Reset: now + 3 s",
    inject: Fault.RateLimited({ resetAfter: 3 }),
    lossy: false,
    resendable: true,
    // The reset is in whole seconds: 2 to 3 s from now, depending on where in its second the clock is.
    window: waits(2_000, 3_000),
    expected: everywhere(ok(2))
  },
  {
    fault: "429 Retry-After: 120 (above the 60 s cap)",
    inject: Fault.RateLimited({ retryAfter: 120 }),
    lossy: false,
    resendable: true,
    window: noWait,
    expected: everywhere(fails("RateLimitedError", 1))
  },
  {
    fault: "connection refused (not sent)",
    inject: Fault.ConnectionRefused(),
    lossy: false,
    resendable: true,
    window: backoffs(1),
    // A refused connection never reaches the server (nor its log): the retry is the only request it sees.
    expected: everywhere(ok(1))
  },
  {
    fault: "connection reset before any response (not processed)",
    inject: Fault.ConnectionReset({}),
    lossy: false,
    resendable: false,
    window: noWait,
    expected: columns(fails("TransportError", 1), fails("TransportError", 1), ok(2), ok(2), ok(2))
  },
  {
    fault: "connection reset before any response (processed)",
    inject: Fault.ConnectionReset({ processed: true }),
    lossy: true,
    resendable: false,
    window: noWait,
    // With rotation the only copy of the new refresh token was in the lost answer: the documented re-authorization.
    expected: columns(
      fails("TransportError", 1),
      fails("TransportError", 1),
      fails("ReauthorizationRequiredError", 2),
      fails("ReauthorizationRequiredError", 2),
      fails("ReauthorizationRequiredError", 2)
    )
  },
  {
    fault: "hang past the 10 s timeout",
    inject: Fault.Hang(),
    lossy: false,
    resendable: false,
    window: waits(10_000, 10_000),
    expected: columns(fails("TransportError", 1), fails("TransportError", 1), ok(2), ok(2), ok(2))
  },
  {
    fault: "truncated JSON (200, processed)",
    inject: Fault.TruncatedJson(),
    lossy: true,
    resendable: false,
    window: noWait,
    // The server rotated and the answer is unreadable: as lost as a reset one, and handled the same way.
    expected: columns(
      fails("ResponseDecodeError", 1),
      fails("ResponseDecodeError", 1),
      fails("ReauthorizationRequiredError", 2),
      fails("ReauthorizationRequiredError", 2),
      fails("ReauthorizationRequiredError", 2)
    )
  },
  {
    fault: "HTML error page (502 from a proxy)",
    inject: Fault.HtmlPage({}),
    lossy: false,
    resendable: true,
    window: backoffs(1),
    expected: everywhere(ok(2))
  },
  {
    fault: "wrong content type (JSON as text/plain)",
    inject: Fault.WrongContentType(),
    lossy: false,
    resendable: false,
    window: noWait,
    // Decoded by content, not by Content-Type.
    expected: everywhere(ok(1))
  },
  ...[
    { fault: "200 without access_token", fields: { access_token: undefined } },
    { fault: "200 with expires_in as a string", fields: { expires_in: "3600" } },
    { fault: "200 with expires_in negative", fields: { expires_in: -3600 } },
    // Values that decode as JSON but cannot be used: refused at the edge, never stored.
    { fault: "200 with CR/LF in access_token", fields: { access_token: "raw-access\r\nX-Injected: 1" } },
    { fault: "200 with NUL in access_token", fields: { access_token: "raw-access\u0000token" } },
    { fault: "200 with a space in access_token", fields: { access_token: "raw access token" } },
    { fault: "200 with whitespace in refresh_token", fields: { refresh_token: "raw-refresh\ttoken" } },
    { fault: "200 with token_type mac", fields: { token_type: "mac" } },
    { fault: "200 with expires_in 0.001", fields: { expires_in: 0.001 } },
    { fault: "200 with expires_in 1 (under the 60 s minimum)", fields: { expires_in: 1 } },
    { fault: "200 with a body over the 64 KiB cap", fields: { padding: "x".repeat(70 * 1024) } }
  ].map(({ fault, fields }): Row => ({
    fault,
    inject: rawToken(fields),
    lossy: false,
    resendable: false,
    window: noWait,
    // An unusable 2XX may have been processed: the manager treats it as outcome-unknown (re-read, one more try).
    expected: columns(fails("ResponseDecodeError", 1), fails("ResponseDecodeError", 1), ok(2), ok(2), ok(2))
  })),
  ...(["dropbox", "rfc6749"] as const).map((shape): Row => ({
    fault: `400 invalid_grant (${shape === "dropbox" ? "Dropbox Sign" : "RFC 6749"} error shape)`,
    inject: Fault.Status({ status: 400, errorName: "invalid_grant", shape }),
    lossy: false,
    resendable: false,
    window: noWait,
    expected: columns(
      fails("OAuthApiError", 1),
      fails("OAuthApiError", 1),
      fails("ReauthorizationRequiredError", 1),
      fails("ReauthorizationRequiredError", 1),
      fails("ReauthorizationRequiredError", 1)
    )
  })),
  {
    fault: "400 bad_request (not terminal)",
    inject: Fault.Status({ status: 400, errorName: "bad_request" }),
    lossy: false,
    resendable: false,
    window: noWait,
    expected: everywhere(fails("OAuthApiError", 1))
  },
  {
    fault: "401 on the API call",
    inject: Fault.Status({ status: 401, errorName: "unauthorized" }),
    onApiCall: true,
    lossy: false,
    resendable: false,
    window: noWait,
    // One forced refresh, then the retried call succeeds.
    expected: columns(noApiCall, noApiCall, noApiCall, noApiCall, ok(1))
  }
]

// -----------------------------------------------------------------------------
// running one scenario
// -----------------------------------------------------------------------------

/** What a scenario observed; `check` compares it with the row. */
interface Observation {
  readonly outcome: string
  readonly requests: number
  readonly elapsedMillis: number
  readonly repeatedCodes: ReadonlyMap<string, number>
  /** A description of a broken storage invariant. */
  readonly storageViolation: string | undefined
  /** The reason stored with a re-authorization mark. */
  readonly reauthorizationReason: string | undefined
}

const apiLayer = OAuthApi.layer.pipe(
  Layer.provideMerge(Support.config()),
  Layer.provideMerge(FakeDropboxSign.layerClientWith(Support.fakeOptions))
)

const httpLayer = DropboxSignHttpClient.layer.pipe(Layer.provideMerge(Support.memoryLayer()))

/** Runs `effect` while the clock advances, and measures it on the clock. A defect fails the test. */
const measure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatten(TestTime.runWithClock(Support.timed(effect), "50 millis"))

const routeRequests = (route: FakeDropboxSign.Route) =>
  Effect.map(
    Effect.flatMap(FakeDropboxSign.FakeDropboxSign, (fake) => fake.requests),
    (requests) => requests.filter((request) => request.route === route).length
  )

const repeatedCodes = Effect.map(
  Effect.flatMap(FakeDropboxSign.FakeDropboxSign, (fake) => fake.requests),
  Support.repeatedCodes
)

const generateRequest = (code: Redacted.Redacted<string>, state: string) =>
  new OAuthSchema.OAuthTokenGenerateRequest({
    clientId: FakeDropboxSign.defaultApp.clientId,
    clientSecret: FakeDropboxSign.defaultApp.clientSecret,
    code,
    state
  })

const refreshRequest = (refreshToken: Redacted.Redacted<string>) =>
  new OAuthSchema.OAuthTokenRefreshRequest({
    refreshToken,
    clientId: FakeDropboxSign.defaultApp.clientId,
    clientSecret: FakeDropboxSign.defaultApp.clientSecret
  })

const runGenerate = (row: Row) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const api = yield* OAuthApi.OAuthApi
    const state = yield* OAuthState.make
    const code = yield* fake.issueCode({ state })
    yield* fake.injectFault("token", row.inject, row.times)
    const result = yield* measure(api.oauthTokenGenerate(generateRequest(code, state)))
    return {
      outcome: Support.outcomeTag(result.exit),
      requests: yield* routeRequests("token"),
      elapsedMillis: result.elapsedMillis,
      repeatedCodes: yield* repeatedCodes,
      storageViolation: undefined,
      reauthorizationReason: undefined
    } satisfies Observation
  }).pipe(Effect.provide(apiLayer))

const runRefresh = (row: Row) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const api = yield* OAuthApi.OAuthApi
    const state = yield* OAuthState.make
    const issued = yield* api.oauthTokenGenerate(generateRequest(yield* fake.issueCode({ state }), state))
    const presented = yield* Effect.fromNullable(issued.refreshToken)
    yield* fake.injectFault("refresh", row.inject, row.times)
    const result = yield* measure(api.oauthTokenRefresh(refreshRequest(presented)))
    // Stateless: nothing is stored, so check the caller's token instead. A success hands back the one token the fake
    // now accepts; a failure leaves the presented token valid unless the server processed the request (lossy).
    const [grant] = yield* fake.grants
    const accepted = Redacted.value(grant.refreshToken)
    const storageViolation = Exit.isSuccess(result.exit) ?
      (result.exit.value.refreshToken !== undefined && Redacted.value(result.exit.value.refreshToken) === accepted ?
        undefined :
        "the refresh token returned is not the one the fake accepts") :
      (accepted === Redacted.value(presented)) === !row.lossy ?
      undefined :
      row.lossy ?
      "a lossy fault left the presented token valid: the fault was not processed" :
      "the presented refresh token was lost although the server did not process the request"
    return {
      outcome: Support.outcomeTag(result.exit),
      requests: yield* routeRequests("refresh"),
      elapsedMillis: result.elapsedMillis,
      repeatedCodes: yield* repeatedCodes,
      storageViolation,
      reauthorizationReason: undefined
    } satisfies Observation
  }).pipe(Effect.provide(apiLayer))

/** The store-side half of an observation for the manager columns. */
const storage = Effect.gen(function*() {
  const store = yield* TokenStore.TokenStore
  const state = yield* Support.refreshTokenState(store)
  const reason = Option.flatMap(state.stored, (entry) => Option.fromNullable(entry.statusReason))
  return { storageViolation: Support.storageViolation(state), reauthorizationReason: Option.getOrUndefined(reason) }
})

const runForeground = (row: Row) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const manager = yield* TokenManager.TokenManager
    yield* Support.connect()
    yield* TestClock.adjust("1 hour")
    yield* fake.injectFault("refresh", row.inject, row.times)
    const result = yield* measure(manager.accessToken())
    return {
      outcome: Support.outcomeTag(result.exit),
      requests: yield* routeRequests("refresh"),
      elapsedMillis: result.elapsedMillis,
      repeatedCodes: yield* repeatedCodes,
      ...yield* storage
    } satisfies Observation
  }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped)

const settled = (event: TokenEvent.TokenEvent): Option.Option<string> => {
  switch (event._tag) {
    case "Refreshed":
      return Option.some("Ok")
    case "RefreshFailed":
      return Option.some(event.error)
    case "ReauthorizationRequired":
      return Option.some("ReauthorizationRequiredError")
    case "Stored":
      return Option.none()
  }
}

const runBackground = (row: Row) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const manager = yield* TokenManager.TokenManager
    const first = yield* Support.connect()
    // Inside the refresh window (it opens 5 minutes before expiry) and still valid.
    yield* TestClock.adjust("56 minutes")
    yield* fake.injectFault("refresh", row.inject, row.times)
    const events = yield* manager.subscribe
    // The clock does not move: the caller must get the current token without waiting for the refresh.
    const served = yield* manager.accessToken()
    expect(Redacted.value(served)).toBe(Redacted.value(first.accessToken))
    const takeOutcome: Effect.Effect<string> = Effect.flatMap(Queue.take(events), (event) =>
      Option.match(settled(event), { onNone: () => takeOutcome, onSome: Effect.succeed }))
    const result = yield* measure(takeOutcome)
    return {
      outcome: Exit.getOrElse(result.exit, () =>
        "Interrupted"),
      requests: yield* routeRequests("refresh"),
      elapsedMillis: result.elapsedMillis,
      repeatedCodes: yield* repeatedCodes,
      ...yield* storage
    } satisfies Observation
  }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped)

const runHttp = (row: Row) =>
  Effect.gen(function*() {
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const http = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount()
    yield* Support.connect()
    if (row.onApiCall === true) {
      yield* fake.injectFault("account", row.inject, row.times)
    } else {
      // The server forgets the access token early: the call gets a 401 and the client refreshes into the fault.
      yield* fake.expireAllTokens
      yield* fake.injectFault("refresh", row.inject, row.times)
    }
    const result = yield* measure(Effect.map(http.get("/account"), (response) => response.status))
    const outcome = Exit.isSuccess(result.exit) && result.exit.value !== 200 ?
      `HTTP ${result.exit.value}` :
      Support.outcomeTag(result.exit)
    return {
      outcome,
      requests: yield* routeRequests("refresh"),
      elapsedMillis: result.elapsedMillis,
      repeatedCodes: yield* repeatedCodes,
      ...yield* storage
    } satisfies Observation
  }).pipe(Effect.provide(httpLayer), Effect.scoped)

const runners: Readonly<Record<Operation, (row: Row) => Effect.Effect<Observation, unknown>>> = {
  "oauthTokenGenerate": runGenerate,
  "oauthTokenRefresh": runRefresh,
  "accessToken (foreground, expired)": runForeground,
  "accessToken (background, SWR)": runBackground,
  "DropboxSignHttpClient request": runHttp
}

// -----------------------------------------------------------------------------
// checks and the summary
// -----------------------------------------------------------------------------

const check = (row: Row, expected: Exclude<Expected, { _tag: "NotApplicable" }>, seen: Observation) => {
  expect({ outcome: seen.outcome, requests: seen.requests }).toStrictEqual({
    outcome: expected._tag === "Ok" ? "Ok" : expected.error,
    requests: expected.requests
  })
  expect(seen.elapsedMillis).toBeLessThanOrEqual(row.window.max)
  expect(seen.elapsedMillis).toBeGreaterThanOrEqual(row.window.min)
  if (!row.resendable) expect([...seen.repeatedCodes.values()]).toStrictEqual([])
  expect(seen.storageViolation).toBeUndefined()
  if (expected._tag === "Fails" && expected.error === "ReauthorizationRequiredError") {
    const why = Support.explain(seen.reauthorizationReason)
    expect(why).toBeDefined()
    // A lossy fault must be explained as one, not as some other refusal.
    if (row.lossy) expect(why).toBe(Support.lostAnswer)
  }
}

const tally = new Map<Operation, { passed: number; total: number; notApplicable: number }>(
  operations.map((operation) => [operation, { passed: 0, total: 0, notApplicable: 0 }])
)

const countOf = (operation: Operation) => {
  const count = tally.get(operation)
  if (count === undefined) throw new Error(`unknown operation ${operation}`)
  return count
}

const markdown = (): string => {
  const header = `| fault | time | ${operations.join(" | ")} |\n|---|---|${operations.map(() => "---").join("|")}|`
  const lines = rows.map((row) =>
    `| ${row.fault} | ${row.window.min === 0 ? "" : `${row.window.min} ms ≤ t `}≤ ${row.window.max} ms | ${
      operations.map((operation) => describeExpected(row.expected[operation])).join(" | ")
    } |`
  )
  return [header, ...lines].join("\n")
}

afterAll(() => {
  for (const operation of operations) {
    const { notApplicable, passed, total } = countOf(operation)
    console.log(`${operation}: ${passed}/${total} scenarios passed (${notApplicable} n/a)`)
  }
  if (process.env["RELIABILITY_MATRIX"] === "1") console.log(markdown())
})

for (const operation of operations) {
  describe(`fault matrix: ${operation}`, () => {
    for (const row of rows) {
      const expected = row.expected[operation]
      const count = countOf(operation)
      if (expected._tag === "NotApplicable") {
        count.notApplicable++
        continue
      }
      count.total++
      it.effect(`${row.fault} → ${describeExpected(expected)}`, () =>
        Effect.gen(function*() {
          const seen = yield* runners[operation](row)
          check(row, expected, seen)
          count.passed++
        }))
    }
  })
}
