/**
 * Security: canary secrets through the key flows (nothing printed, logged, traced or thrown shows one), the `state`
 * checks of the authorization callback, token stores at rest (file modes, encryption, tampering), base URLs, and
 * redirects from the token endpoint (never followed with the body, over both undici and fetch).
 */
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import { createRequire, syncBuiltinESMExports } from "node:module"
import * as Os from "node:os"

import {
  AccountId,
  DropboxSignHttpClient,
  OAuthApi,
  OAuthConfig,
  OAuthSchema,
  OAuthState,
  OAuthToken,
  TokenCipher,
  TokenManager,
  TokenStore,
  TokenStoreKit
} from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign, SecretCanary, TestTime } from "@dropbox-sign-effect/testing"
import {
  FetchHttpClient,
  FileSystem,
  HttpClient,
  HttpClientResponse,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
  KeyValueStore,
  Path
} from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it, vi } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Context,
  DateTime,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Layer,
  Metric,
  Option,
  Queue,
  Redacted,
  Ref,
  Scope,
  TestClock
} from "effect"

import * as Support from "./support.js"

const { Fault } = FakeDropboxSign

// -----------------------------------------------------------------------------
// canary secrets
// -----------------------------------------------------------------------------

const canaryClientSecret = "CANARY-client-secret-7f3a9c51e2"

/** The tokens in a token-endpoint answer, even a truncated one (the `state` it echoes is not a secret). */
const issuedToken = /"(?:access_token|refresh_token)":"([A-Za-z0-9_-]{16,})/g

describe("security: canary secrets", () => {
  // The flow waits out timeouts and backoffs on the TestClock, one event-loop turn per 100 ms step, while the file store
  // does real I/O; a normal run takes about a second, longer on a machine busy with the fleet tests. The flow moves the
  // clock itself while `TestTime.runWithClock` drives it, so it moves it with `TestTime.adjust`: with `TestClock.adjust`
  // the two moves could overlap and send the clock back by an hour, leaving a step asleep past the driver's step limit.
  const flowOptions = { timeout: 120_000 }

  it.effect(
    "no secret in logs, spans, events, errors, JSON or inspect output, across every key flow",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const directory = yield* fs.makeTempDirectoryScoped({ directory: Os.tmpdir(), prefix: "dse-canary-" })
        const canaries = new Set<string>([canaryClientSecret])
        // Every body the token endpoint answers, lost answers included: each token in them is a canary.
        const answers: Array<string> = []
        const fakeContext = yield* Layer.build(FakeDropboxSign.layerClientWith({
          defaultApp: { clientSecret: canaryClientSecret, rotateRefreshTokens: true }
        }))
        const fake = Context.get(fakeContext, FakeDropboxSign.FakeDropboxSign)
        const recording = HttpClient.tap(
          Context.get(fakeContext, HttpClient.HttpClient),
          (response) =>
            response.request.url.includes("/oauth/token") ?
              Effect.ignore(Effect.map(response.text, (text) => answers.push(text))) :
              Effect.void
        )
        const store = yield* TokenStore.makeFileSystem(`${directory}/tokens`)
        const configOptions = { clientSecret: Redacted.make(canaryClientSecret) }
        const services = Layer.mergeAll(
          Layer.succeed(HttpClient.HttpClient, recording),
          Layer.succeed(TokenStore.TokenStore, store),
          Layer.succeedContext(fakeContext).pipe(Layer.map(Context.omit(HttpClient.HttpClient)))
        )
        const start = (scope: Scope.Scope) =>
          Layer.buildWithScope(
            DropboxSignHttpClient.layer.pipe(Layer.provideMerge(Support.managerLayer({}, configOptions))),
            scope
          ).pipe(Effect.provide(services), Effect.orDie)
        const alice = AccountId.make("alice@example.com")
        const firstScope = yield* Scope.make()
        const secondScope = yield* Scope.make()
        let context = yield* start(firstScope)
        // Functions: after the restart they answer with the second manager.
        const manager = () => Context.get(context, TokenManager.TokenManager)
        const http = () => Context.get(context, DropboxSignHttpClient.DropboxSignHttpClient).forAccount(alice)
        const events: Array<unknown> = []
        const outcomes: Array<Exit.Exit<unknown, unknown>> = []
        const captured = SecretCanary.make()

        const refusedCallbacks: Array<Exit.Exit<unknown, unknown>> = []
        const run = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.tap(TestTime.runWithClock(effect), (exit) => Effect.sync(() => outcomes.push(exit)))
        const drain = (queue: Queue.Dequeue<unknown>) =>
          Effect.map(Queue.takeAll(queue), (taken) => events.push(...Chunk.toReadonlyArray(taken)))
        const authorize = Effect.gen(function*() {
          const state = yield* OAuthState.make
          const code = yield* Effect.orDie(fake.issueCode({ state }))
          canaries.add(Redacted.value(code))
          yield* run(manager().authorize(alice, { code, state }, state))
          return { code, state }
        })
        const currentRefreshToken = Effect.map(
          Effect.orDie(store.get(alice)),
          (stored) => Option.match(stored, { onNone: () => "", onSome: (s) => Redacted.value(s.token.refreshToken) })
        )
        // Suspended: `manager()` is the manager of the moment (there is a restart).
        const expireAndFetch = Effect.suspend(() =>
          Effect.zipRight(TestTime.adjust("1 hour"), run(manager().accessToken(alice)))
        )

        const flows = Effect.gen(function*() {
          yield* Effect.scoped(
            Effect.flatMap(manager().subscribe, (queue) =>
              Effect.gen(function*() {
                const first = yield* authorize
                yield* run(manager().accessToken(alice))
                yield* run(manager().refresh(alice))
                // Stale while revalidate: served at once, refreshed behind the caller.
                yield* TestTime.adjust("56 minutes")
                yield* run(manager().accessToken(alice))
                yield* TestTime.adjustGradually("5 seconds")
                // Faults that end in success, each on an expired token.
                for (
                  const fault of [
                    Fault.Status({ status: 503 }),
                    Fault.RateLimited({ retryAfter: 1 }),
                    Fault.Status({ status: 500 }),
                    Fault.ConnectionReset({}),
                    Fault.Hang(),
                    Fault.HtmlPage({}),
                    Fault.RawBody({ status: 200, body: `{"expires_in":"soon"}`, contentType: "application/json" })
                  ]
                ) {
                  yield* fake.injectFault("refresh", fault)
                  yield* expireAndFetch
                }
                // A 401 on an API call: one refresh, one retry. Responses are kept as text: printed outside an Effect logger,
                // a response (or an HttpClientError) once showed its request's bearer token (see the test below).
                yield* fake.injectFault("account", Fault.Status({ status: 401, errorName: "unauthorized" }))
                yield* run(Effect.scoped(Effect.flatMap(http().get("/account"), (response) => response.text)))
                // A lost answer with rotation: re-authorization required.
                yield* fake.injectFault("refresh", Fault.TruncatedJson())
                yield* run(manager().refresh(alice))
                const second = yield* authorize
                // A refusal that echoes the refresh token back, in both error shapes.
                for (const shape of ["dropbox", "rfc6749"] as const) {
                  const echoed = yield* currentRefreshToken
                  yield* fake.injectFault(
                    "refresh",
                    Fault.Status({
                      status: 400,
                      errorName: "invalid_grant",
                      errorMsg: `refresh token ${echoed} is not valid`,
                      errorPath: echoed,
                      shape
                    })
                  )
                  yield* expireAndFetch
                  yield* authorize
                }
                // The code and the state, replayed or forged.
                refusedCallbacks.push(yield* run(manager().authorize(alice, first, first.state)))
                refusedCallbacks.push(
                  yield* run(manager().authorize(alice, { code: second.code, state: "forged" }, second.state))
                )
                // Revocation.
                yield* fake.revokeGrant()
                yield* expireAndFetch
                // Drained inside the scope: the subscription ends with it.
                yield* drain(queue)
              }))
          )
          // A restart over the same store, then one more round.
          yield* Scope.close(firstScope, Exit.void)
          context = yield* start(secondScope)
          yield* authorize
          yield* run(Effect.flatMap(http().get("/account"), (response) => response.text))
          yield* expireAndFetch
          // The callback itself, with the code in the URL.
          const state = yield* OAuthState.make
          const code = Redacted.value(yield* Effect.orDie(fake.issueCode({ state })))
          canaries.add(code)
          outcomes.push(
            Exit.succeed(OAuthState.parseCallback(`https://app.example/cb?code=${code}&state=${state}`, state))
          )
          outcomes.push(Exit.succeed(OAuthState.parseCallback(`https://app.example/cb?code=${code}&state=x`, state)))
          yield* Scope.close(secondScope, Exit.void)
        })
        const exit = yield* TestTime.runWithClock(SecretCanary.capture(flows, captured))
        expect(Support.outcomeTag(exit)).toBe("Ok")
        // A replayed code is refused by Dropbox Sign; a forged state never reaches it.
        expect(refusedCallbacks.map((outcome) => Support.outcomeTag(outcome))).toStrictEqual([
          "OAuthApiError",
          "StateMismatchError"
        ])
        // Every step ended on its own: none died on the clock driver's step limit (a hang) or was interrupted.
        expect(
          outcomes.map((outcome) => Support.outcomeTag(outcome)).filter((tag) =>
            tag === "Defect" || tag === "Interrupted"
          )
        )
          .toStrictEqual([])

        for (const answer of answers) {
          for (const [, token] of answer.matchAll(issuedToken)) if (token !== undefined) canaries.add(token)
        }
        for (const grant of yield* fake.grants) canaries.add(Redacted.value(grant.refreshToken))
        const stored = yield* Effect.orDie(store.get(alice))
        const failures = outcomes.flatMap((o) => Exit.isFailure(o) ? Option.toArray(Cause.failureOption(o.cause)) : [])
        const values: ReadonlyArray<unknown> = [
          ...events,
          ...outcomes,
          ...failures,
          stored,
          ...Option.toArray(Option.map(stored, (s): OAuthToken.OAuthToken => s.token)),
          Context.get(context, OAuthConfig.OAuthConfig),
          yield* fake.requests,
          yield* Metric.snapshot
        ]
        const haystack = [SecretCanary.dump(captured), ...values.flatMap(SecretCanary.printedForms)].join("\n")

        // The flows did what they claim: secrets to look for, failures of every kind, logs and spans to search.
        expect(canaries.size).toBeGreaterThan(20)
        expect(new Set(failures.map((f) => Support.outcomeTag(Exit.fail(f))))).toStrictEqual(
          new Set(["ReauthorizationRequiredError", "OAuthApiError", "StateMismatchError"])
        )
        expect(captured.logs.length).toBeGreaterThan(10)
        const spanNames = new Set(captured.spans.map((span) => span.name))
        for (const name of ["OAuthApi.oauthTokenRefresh", "TokenManager.refresh", "DropboxSignHttpClient.request"]) {
          expect(spanNames.has(name)).toBe(true)
        }
        expect(SecretCanary.leaks(haystack, [...canaries])).toStrictEqual([])
      }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)),
    flowOptions
  )

  it.effect("server messages echoing the request's secrets are scrubbed; unusable bodies stay redacted", () =>
    Effect.gen(function*() {
      const refreshToken = "CANARY-refresh-token-1c9be27d04"
      const code = "CANARY-authorization-code-84d1"
      const accessToken = "CANARY-access-token-5be0a2f9c7"
      // The scrubber removes what the request itself sent: the server can only echo that.
      const calls = [
        {
          secrets: [refreshToken, canaryClientSecret],
          call: (api: OAuthApi.Service) =>
            api.oauthTokenRefresh(
              new OAuthSchema.OAuthTokenRefreshRequest({
                refreshToken: Redacted.make(refreshToken),
                clientId: "canary-client",
                clientSecret: Redacted.make(canaryClientSecret)
              })
            )
        },
        {
          secrets: [code, canaryClientSecret],
          call: (api: OAuthApi.Service) =>
            api.oauthTokenGenerate(
              new OAuthSchema.OAuthTokenGenerateRequest({
                clientId: "canary-client",
                clientSecret: Redacted.make(canaryClientSecret),
                code: Redacted.make(code),
                state: "s"
              })
            )
        }
      ]
      const replies = (echo: string): ReadonlyArray<{ readonly status: number; readonly body: string }> => [
        { status: 400, body: JSON.stringify({ error: { error_msg: echo, error_name: echo, error_path: echo } }) },
        { status: 400, body: JSON.stringify({ error: echo, error_description: echo }) },
        { status: 401, body: echo },
        { status: 200, body: `{"access_token":"${accessToken}","refresh_token":"${echo}","expires_in":"x"}` },
        { status: 200, body: `{"access_token":"${accessToken}","refresh_tok` },
        { status: 500, body: echo },
        { status: 307, body: echo }
      ]
      const captured = SecretCanary.make()
      for (const { call, secrets } of calls) {
        const errors: Array<unknown> = []
        for (const reply of replies(secrets.join(" "))) {
          const client = HttpClient.make((request) =>
            Effect.succeed(HttpClientResponse.fromWeb(request, new Response(reply.body, { status: reply.status })))
          )
          const api = yield* OAuthApi.make.pipe(
            Effect.provide(Layer.merge(
              Layer.succeed(HttpClient.HttpClient, client),
              OAuthConfig.layer({
                clientId: "canary-client",
                clientSecret: Redacted.make(canaryClientSecret),
                retrySchedule: OAuthConfig.noRetries
              })
            )),
            Effect.orDie
          )
          errors.push(yield* Effect.flip(SecretCanary.capture(call(api), captured)))
        }
        expect(errors.length).toBe(7)
        const haystack = [SecretCanary.dump(captured), ...errors.flatMap(SecretCanary.printedForms)].join("\n")
        // The access token was never sent: only the raw bodies held it, and those stay redacted.
        expect(SecretCanary.leaks(haystack, [...secrets, accessToken])).toStrictEqual([])
      }
    }))
})

describe("security: responses and errors of DropboxSignHttpClient", () => {
  // Platform headers are redacted only while an Effect logger prints them (`Headers.currentRedactedNames` applies in a
  // redactable context). `DropboxSignHttpClient` therefore hands back responses and errors whose `request` is the
  // caller's, without the `Authorization` header it added: printed anywhere, they show no token.
  const httpLayer = DropboxSignHttpClient.layer.pipe(Layer.provideMerge(Support.memoryLayer()))

  /** A response, and the error after a second 401, with the access token they were sent with. */
  const responseAndError = Effect.gen(function*() {
    const http = (yield* DropboxSignHttpClient.DropboxSignHttpClient).forAccount()
    const fake = yield* FakeDropboxSign.FakeDropboxSign
    const token = Redacted.value((yield* Support.connect()).accessToken)
    const response = yield* http.get("/account")
    yield* fake.injectFault("account", Fault.Status({ status: 401, errorName: "unauthorized" }), 2)
    const error = yield* Effect.flip(TestTime.runWithClock(http.get("/account")).pipe(Effect.flatten))
    const renewed = Redacted.value(yield* (yield* TokenManager.TokenManager).accessToken())
    return { response, error, tokens: [token, renewed] }
  })

  it.effect("printed outside an Effect logger, they show no bearer token", () =>
    Effect.gen(function*() {
      const { error, response, tokens } = yield* responseAndError
      const printed = [response, error].flatMap(SecretCanary.printedForms).join("\n")
      expect(printed).toContain("/v3/account")
      expect(SecretCanary.leaks(printed, tokens)).toStrictEqual([])
      expect(SecretCanary.leaks(`${error.message}\n${String(error)}`, tokens)).toStrictEqual([])
    }).pipe(Effect.provide(httpLayer), Effect.scoped))

  it.effect("printed by an Effect logger, the same response and error show no token", () =>
    Effect.gen(function*() {
      const { error, response, tokens } = yield* responseAndError
      const captured = SecretCanary.make()
      yield* SecretCanary.capture(
        Effect.zipRight(Effect.log("response", response), Effect.logError("failed", Cause.fail(error))),
        captured
      )
      expect(captured.logs.join("\n")).toContain("/v3/account")
      expect(SecretCanary.leaks(SecretCanary.dump(captured), tokens)).toStrictEqual([])
    }).pipe(Effect.provide(httpLayer), Effect.scoped))
})

// -----------------------------------------------------------------------------
// state
// -----------------------------------------------------------------------------

const counters = Effect.flatMap(FakeDropboxSign.FakeDropboxSign, (fake) => fake.counters)
const bob = AccountId.make("bob")

describe("security: the state of the authorization callback", () => {
  it.effect("a missing state is refused before any code is exchanged", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const manager = yield* TokenManager.TokenManager
      const expected = yield* OAuthState.make
      const code = yield* fake.issueCode({ state: expected })
      for (const url of ["https://app.example/cb?code=abc", "https://app.example/cb?code=abc&state="]) {
        const result = OAuthState.parseCallback(url, expected)
        expect(Either.isLeft(result) && result.left._tag).toBe("InvalidCallbackError")
      }
      expect((yield* Effect.flip(manager.authorize(bob, { code, state: "" }, expected)))._tag).toBe(
        "StateMismatchError"
      )
      expect((yield* counters).tokenRequests).toBe(0)
    }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped))

  it.effect("a reused code and state: the second exchange fails and the stored token stays", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const manager = yield* TokenManager.TokenManager
      const store = yield* TokenStore.TokenStore
      const state = yield* OAuthState.make
      const code = yield* fake.issueCode({ state })
      const first = yield* manager.authorize(bob, { code, state }, state)
      const again = yield* Effect.flip(manager.authorize(bob, { code, state }, state))
      expect(again).toMatchObject({ _tag: "OAuthApiError", status: 400, errorName: "invalid_grant" })
      const stored = Option.getOrThrow(yield* store.get(bob))
      expect(stored.version).toBe(1)
      expect(OAuthToken.sameSecrets(stored.token, first)).toBe(true)
      expect((yield* counters).codesExchanged).toBe(1)
    }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped))

  it.effect("a state the application did not issue is refused, and the real callback still works", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const manager = yield* TokenManager.TokenManager
      const issued = yield* OAuthState.make
      const attackers = yield* OAuthState.make
      // A code the attacker obtained for their own authorization, delivered with their state.
      const code = yield* fake.issueCode({ state: issued })
      expect(Either.isLeft(OAuthState.parseCallback(`https://app.example/cb?code=x&state=${attackers}`, issued))).toBe(
        true
      )
      const refused = yield* Effect.flip(manager.authorize(bob, { code, state: attackers }, issued))
      expect(refused._tag).toBe("StateMismatchError")
      expect((yield* counters).tokenRequests).toBe(0)
      yield* manager.authorize(bob, { code, state: issued }, issued)
      expect((yield* counters).codesExchanged).toBe(1)
    }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped))

  it.effect("an expired code fails with a typed error and stores nothing", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const manager = yield* TokenManager.TokenManager
      const store = yield* TokenStore.TokenStore
      const state = yield* OAuthState.make
      const code = yield* fake.issueCode({ state })
      // The fake's codes live 10 minutes.
      yield* TestClock.adjust("11 minutes")
      const error = yield* Effect.flip(manager.authorize(bob, { code, state }, state))
      expect(error).toMatchObject({ _tag: "OAuthApiError", errorName: "invalid_grant" })
      expect(error.message).toContain("expired")
      expect(Option.isNone(yield* store.get(bob))).toBe(true)
    }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped))

  it.effect("an altered state is refused, by parseCallback and by authorize, before any code is exchanged", () =>
    Effect.gen(function*() {
      const fake = yield* FakeDropboxSign.FakeDropboxSign
      const manager = yield* TokenManager.TokenManager
      const issued = yield* OAuthState.make
      const code = yield* fake.issueCode({ state: issued })
      const flipped = `${issued.slice(0, 10)}${issued[10] === "A" ? "B" : "A"}${issued.slice(11)}`
      const altered = [
        flipped,
        `${issued}x`,
        issued.slice(0, -1),
        issued.toUpperCase() === issued ? issued.toLowerCase() : issued.toUpperCase(),
        ` ${issued}`,
        `${issued.slice(0, 5)}\u0410${issued.slice(6)}`
      ]
      for (const state of altered) {
        const url = new URL("https://app.example/cb")
        url.searchParams.set("code", "abc")
        url.searchParams.set("state", state)
        const parsed = OAuthState.parseCallback(url, issued)
        expect(Either.isLeft(parsed) && parsed.left._tag).toBe("StateMismatchError")
        expect((yield* Effect.flip(manager.authorize(bob, { code, state }, issued)))._tag).toBe("StateMismatchError")
      }
      expect((yield* counters).tokenRequests).toBe(0)
    }).pipe(Effect.provide(Support.memoryLayer()), Effect.scoped))

  it("verify hashes both sides and compares the digests with crypto.timingSafeEqual, whatever their lengths", () => {
    const crypto: typeof Crypto = createRequire(import.meta.url)("node:crypto")
    // The library imports node:crypto as an ES module: patch the builtin and sync its ES exports to observe the call.
    const spy = vi.spyOn(crypto, "timingSafeEqual")
    syncBuiltinESMExports()
    try {
      const cases: ReadonlyArray<readonly [string, string, boolean]> = [
        ["expected-state", "expected-state", true],
        ["short", "a much longer state than the expected one", false],
        ["a much longer state than the received one", "x", false],
        ["state", "", false],
        ["", "", false]
      ]
      for (const [expected, received, equal] of cases) {
        expect(OAuthState.verify(expected, received)).toBe(equal)
      }
      // One comparison per call, always of two SHA-256 digests: nothing depends on the inputs' lengths.
      expect(spy.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength])).toStrictEqual(cases.map(() => [32, 32]))
    } finally {
      spy.mockRestore()
      syncBuiltinESMExports()
    }
  })

  it.prop("verify is string equality (a non-empty expected state), for any strings, lone surrogates included", [
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.boolean()
  ], ([expected, other, same]) => {
    const received = same ? expected : other
    expect(OAuthState.verify(expected, received)).toBe(expected === received && expected.length > 0)
  }, { fastCheck: { numRuns: 1000, examples: [["\uD800", "\uDC00", false], ["a\uD800", "a\uFFFD", false]] } })
})

// -----------------------------------------------------------------------------
// stores
// -----------------------------------------------------------------------------

/** A token whose secrets are recognisable canaries, issued now. */
const canaryToken = (tag: string) =>
  Effect.map(DateTime.now, (now) =>
    new OAuthToken.OAuthToken({
      accessToken: Redacted.make(`CANARY-access-${tag}-00f1e2d3c4b5`),
      refreshToken: Redacted.make(`CANARY-refresh-${tag}-a9b8c7d6e5f4`),
      tokenType: "Bearer",
      issuedAt: now,
      expiresAt: DateTime.add(now, { hours: 1 })
    }))

const secretsOf = (
  token: OAuthToken.OAuthToken
) => [Redacted.value(token.accessToken), Redacted.value(token.refreshToken)]

/** Every file under `directory`, with its text. */
const filesUnder = (directory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(directory, { recursive: true })
    const files: Array<{ readonly name: string; readonly text: string }> = []
    for (const name of names) {
      const full = path.join(directory, name)
      if ((yield* fs.stat(full)).type !== "File") continue
      files.push({ name, text: Buffer.from(yield* fs.readFile(full)).toString("latin1") })
    }
    return files
  })

const fileOf = (directory: string, account: AccountId.AccountId) =>
  `${directory}/${Crypto.createHash("sha256").update(account, "utf8").digest("hex")}.token`

const carol = AccountId.make("carol@example.com")
const dave = AccountId.make("dave@example.com")

describe("security: token stores at rest", () => {
  it.effect("file store: directory 0700, entries 0600 (after rewrites too), no temporary file left, no account name", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped({ directory: Os.tmpdir(), prefix: "dse-modes-" })
      const directory = `${root}/tokens`
      const store = yield* TokenStore.makeFileSystem(directory)
      let version: number | null = null
      for (let i = 0; i < 3; i++) {
        version = (yield* store.set(carol, yield* canaryToken(`modes-${i}`), { expectedVersion: version })).version
      }
      yield* store.set(dave, yield* canaryToken("modes-dave"), { expectedVersion: null })
      expect((yield* fs.stat(directory)).mode & 0o777).toBe(0o700)
      const files = yield* filesUnder(directory)
      expect(files.map((file) => file.name).sort()).toStrictEqual(
        [fileOf("", carol), fileOf("", dave)].map((f) => f.slice(1)).sort()
      )
      for (const file of files) {
        expect((yield* fs.stat(`${directory}/${file.name}`)).mode & 0o777).toBe(0o600)
        expect(file.name).not.toContain("carol")
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))

  it.effect("encrypted stores never hold a plaintext token (or account) on disk: file store and KeyValueStore on files", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped({ directory: Os.tmpdir(), prefix: "dse-encrypted-" })
      const cipher = yield* Effect.orDie(Effect.flatMap(TokenCipher.generateKey, TokenCipher.make))
      const fileStore = yield* TokenStore.makeFileSystem(`${root}/file`, { cipher })
      const keyValueStore = yield* TokenStore.makeKeyValueStore({ cipher }).pipe(
        Effect.provide(KeyValueStore.layerFileSystem(`${root}/key-value`))
      )
      const secrets: Array<string> = []
      for (const [name, store] of [["file", fileStore], ["key-value", keyValueStore]] as const) {
        for (const account of [carol, dave]) {
          const token = yield* canaryToken(`${name}-${account}`)
          secrets.push(...secretsOf(token))
          const stored = yield* store.set(account, token, { expectedVersion: null })
          yield* store.set(account, token, {
            expectedVersion: stored.version,
            status: "reauthorization_required",
            statusReason: "a reason"
          })
          // Readable back with the key.
          const read = Option.getOrThrow(yield* store.get(account))
          expect(secretsOf(read.token)).toStrictEqual(secretsOf(token))
        }
      }
      const files = yield* filesUnder(root)
      expect(files.length).toBeGreaterThanOrEqual(5)
      for (const file of files) {
        expect(file.text.startsWith(TokenCipher.prefix), file.name).toBe(true)
        const shown = `${file.name}\n${file.text}`
        expect(SecretCanary.leaks(shown, [...secrets, "carol", "dave", "refreshToken", "Bearer"])).toStrictEqual([])
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))

  it.effect("a tampered, truncated, swapped or unencrypted entry fails with TokenStoreError, in the store and the manager", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped({ directory: Os.tmpdir(), prefix: "dse-tamper-" })
      const directory = `${root}/tokens`
      const cipher = yield* Effect.orDie(Effect.flatMap(TokenCipher.generateKey, TokenCipher.make))
      const store = yield* TokenStore.makeFileSystem(directory, { cipher })
      const token = yield* canaryToken("tamper")
      yield* store.set(carol, token, { expectedVersion: null })
      yield* store.set(dave, yield* canaryToken("tamper-dave"), { expectedVersion: null })
      const original = yield* fs.readFileString(fileOf(directory, carol))
      const middle = Math.floor((TokenCipher.prefix.length + original.length) / 2)
      const flip = (text: string, at: number) =>
        `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`
      const plain = yield* TokenStoreKit.encodeEntry(Option.getOrThrow(yield* store.get(carol)))
      const variants = {
        "a flipped character in the IV": flip(original, TokenCipher.prefix.length + 2),
        "a flipped character in the ciphertext": flip(original, middle),
        "a flipped character in the tag": flip(original, TokenCipher.prefix.length + 20),
        "a truncated entry": original.slice(0, -12),
        "another account's entry": yield* fs.readFileString(fileOf(directory, dave)),
        "a plaintext entry": plain
      }
      const manager = Layer.build(Support.managerLayer()).pipe(
        Effect.provide(Layer.succeed(TokenStore.TokenStore, store)),
        Effect.provide(FakeDropboxSign.layerClientWith(Support.fakeOptions)),
        Effect.map(Context.get(TokenManager.TokenManager)),
        Effect.orDie
      )
      for (const [name, text] of Object.entries(variants)) {
        yield* fs.writeFileString(fileOf(directory, carol), text)
        const error = yield* Effect.flip(store.get(carol))
        expect(error._tag, name).toBe("TokenStoreError")
        const fromManager = yield* Effect.flip(Effect.flatMap(manager, (tm) => tm.accessToken(carol)))
        expect(fromManager._tag, name).toBe("TokenStoreError")
        const shown = [error, fromManager].flatMap(SecretCanary.printedForms).join("\n")
        expect(SecretCanary.leaks(shown, secretsOf(token))).toStrictEqual([])
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)))
})

// -----------------------------------------------------------------------------
// base URLs and redirects
// -----------------------------------------------------------------------------

describe("security: base URLs", () => {
  const refused = [
    "http://example.com",
    "http://10.0.0.1:8080",
    "http://127.0.0.1.example.com",
    "http://localhost.example.com",
    "ftp://example.com",
    "https://user:secret@example.com",
    "https://example.com/?token=x",
    "not a url"
  ]
  const accepted = ["https://example.com", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:3000"]

  it.effect("http:// is refused unless the host is loopback, for both base URLs", () =>
    Effect.gen(function*() {
      for (const key of ["oauthUrl", "apiUrl"] as const) {
        for (const url of refused) {
          const exit = yield* Effect.exit(
            OAuthConfig.make({ clientId: "c", clientSecret: Redacted.make("s"), [key]: url })
          )
          expect(Exit.isFailure(exit), `${key} ${url}`).toBe(true)
          if (Exit.isFailure(exit)) expect(String(Cause.squash(exit.cause))).not.toContain("secret@")
        }
        for (const url of accepted) {
          const exit = yield* Effect.exit(
            OAuthConfig.make({ clientId: "c", clientSecret: Redacted.make("s"), [key]: url })
          )
          expect(Exit.isSuccess(exit), `${key} ${url}`).toBe(true)
        }
      }
    }))
})

/**
 * A loopback server, built with `HttpRouter` and `NodeHttpServer`, that answers every token request with a 307 to
 * `target`, and records what reaches it (the redirect target `/landing/...` included).
 */
const redirectingServer = (target: (self: string, path: string) => string) =>
  Effect.gen(function*() {
    const hits = yield* Ref.make<ReadonlyArray<string>>([])
    const self = yield* Ref.make("")
    const record = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Ref.updateAndGet(hits, (seen) => [...seen, `${request.method} ${request.url}`]))
    const app = HttpRouter.empty.pipe(
      HttpRouter.post(
        "/oauth/token",
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          yield* record
          return HttpServerResponse.empty({
            status: 307,
            headers: { location: target(yield* Ref.get(self), request.url) }
          })
        })
      ),
      // Answers like a token endpoint would, so that a followed redirect would visibly succeed.
      HttpRouter.all(
        "/landing/*",
        Effect.zipRight(
          record,
          HttpServerResponse.json({
            access_token: "landing",
            token_type: "Bearer",
            refresh_token: "landing",
            expires_in: 60
          })
        )
      )
    )
    const context = yield* Layer.build(
      HttpServer.serve(app).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() =>
          Http.createServer(), { port: 0, host: "127.0.0.1" }))
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    const url = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
    yield* Ref.set(self, url)
    return { url, hits: Ref.get(hits) }
  })

describe("security: redirects from the token endpoint", () => {
  const clients = [
    { name: "NodeHttpClient.layerUndici", layer: NodeHttpClient.layerUndici },
    { name: "FetchHttpClient.layer", layer: FetchHttpClient.layer }
  ]
  const targets = [
    { name: "the fake's own token endpoint", target: (fake: string) => (_: string, path: string) => `${fake}${path}` },
    { name: "the redirecting server itself", target: () => (self: string, path: string) => `${self}/landing${path}` }
  ]

  for (const client of clients) {
    for (const { name, target } of targets) {
      it.live(`${client.name}: a 307 to ${name} is not followed; the call fails with unexpected_redirect`, () =>
        Effect.gen(function*() {
          const fake = yield* FakeDropboxSign.FakeDropboxSign
          const fakeUrl = (yield* FakeDropboxSign.FakeDropboxSignServer).url
          const redirecting = yield* redirectingServer(target(fakeUrl))
          // Built in the test's scope: the undici dispatcher must outlive the construction of the service.
          const services = yield* Layer.build(Layer.merge(Support.config({ oauthUrl: redirecting.url }), client.layer))
          const api = yield* Effect.provide(OAuthApi.make, services)
          const state = yield* OAuthState.make
          const code = yield* Effect.orDie(fake.issueCode({ state }))
          const generate = yield* Effect.flip(api.oauthTokenGenerate(
            new OAuthSchema.OAuthTokenGenerateRequest({
              clientId: FakeDropboxSign.defaultApp.clientId,
              clientSecret: FakeDropboxSign.defaultApp.clientSecret,
              code,
              state
            })
          ))
          const refresh = yield* Effect.flip(api.oauthTokenRefresh(
            new OAuthSchema.OAuthTokenRefreshRequest({
              refreshToken: Redacted.make("some-refresh-token"),
              clientId: FakeDropboxSign.defaultApp.clientId,
              clientSecret: FakeDropboxSign.defaultApp.clientSecret
            })
          ))
          for (const error of [generate, refresh]) {
            expect(error).toMatchObject({ _tag: "OAuthApiError", status: 307, errorName: "unexpected_redirect" })
          }
          // The redirecting server saw the two requests; their targets saw nothing.
          expect(yield* redirecting.hits).toStrictEqual(["POST /oauth/token", "POST /oauth/token?refresh"])
          const seen = yield* fake.counters
          expect(seen.requests).toBe(0)
        }).pipe(Effect.scoped, Effect.provide(FakeDropboxSign.layerServer())))
    }
  }
})
