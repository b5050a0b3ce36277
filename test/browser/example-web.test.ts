/**
 * The example application and the fake Dropbox Sign as real servers on loopback, driven by Chromium: what a user
 * sees, and what an attacker replaying or altering a callback gets.
 */
import { AccountId, TokenStore } from "@dropbox-sign-effect/oauth"
import { FakeDropboxSign } from "@dropbox-sign-effect/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Option } from "effect"
import type { Page } from "playwright-core"

import * as Embedded from "../../examples/web/src/Embedded.js"
import * as Server from "../../examples/web/src/Server.js"
import * as Storage from "../../examples/web/src/Storage.js"
import * as Chromium from "./chromium.js"

const { step, withPage } = Chromium

const services = Layer.mergeAll(
  // The example logs every request; the tests need only its warnings.
  Embedded.layer({ port: 0, store: Storage.temporary }).pipe(
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  ),
  Chromium.layer
)

const stored = (user: string) => Effect.flatMap(TokenStore.TokenStore, (store) => store.get(AccountId.make(user)))

/** Opens the home page (which signs the browser in as a new user) and returns that user. */
const signIn = (page: Page) =>
  Effect.gen(function*() {
    const url = yield* Server.ExampleUrl
    yield* step(() => page.goto(`${url}/`))
    return yield* step(() => page.locator("#user").innerText())
  })

/** From the home page to the fake's consent page. */
const toConsent = (page: Page) =>
  Effect.gen(function*() {
    yield* step(() => page.getByRole("link", { name: "Connect Dropbox Sign" }).click())
    yield* step(() => page.waitForURL(/\/oauth\/authorize\?/))
  })

/** Clicks "Authorize" and returns the callback URL the fake sent the browser to. */
const authorize = (page: Page) =>
  Effect.map(
    step(() =>
      Promise.all([
        page.waitForRequest(/\/dropbox-sign\/callback\?/),
        page.getByRole("button", { name: "Authorize" }).click()
      ])
    ),
    ([request]) => request.url()
  )

/** Opens `url` and returns how the callback answered it (its redirect) and the page the browser ends on. */
const openCallback = (page: Page, url: string) =>
  Effect.gen(function*() {
    const final = yield* step(() => page.goto(url))
    const callback = final?.request().redirectedFrom()
    expect(callback?.url()).toBe(url)
    const answer = yield* step(async () => await callback?.response())
    return { status: answer?.status(), location: answer?.headers()["location"] }
  })

const stateCookie = (page: Page) =>
  Effect.map(step(() => page.context().cookies()), (cookies) => cookies.find((c) => c.name === "dropbox_sign_oauth"))

if (!Chromium.available) {
  describe("example web app in Chromium", () => {
    if (process.env.CI === "true") {
      it("needs Chromium under CI=true", () => {
        throw new Error(Chromium.missing)
      })
    } else {
      console.warn(Chromium.missing)
      it.skip("skipped: Chromium is not installed", () => {})
    }
  })
} else {
  layer(services, { excludeTestServices: true, timeout: "60 seconds" })("example web app in Chromium", (it) => {
    it.effect("Connect → consent page → Authorize → the account page shows the connected email", () =>
      withPage("connect and authorize", (page) =>
        Effect.gen(function*() {
          const user = yield* signIn(page)
          expect(yield* step(() => page.locator("#status").innerText())).toContain("not connected")
          yield* toConsent(page)
          expect(yield* step(() => page.locator("#app-name").innerText())).toBe(Embedded.appName)
          expect(yield* step(() => page.locator("#account-email").innerText())).toBe(
            FakeDropboxSign.defaultAccount.emailAddress
          )
          yield* authorize(page)
          yield* step(() => page.waitForURL(/\/account$/))
          expect(yield* step(() => page.locator("#email").innerText())).toBe(
            FakeDropboxSign.defaultAccount.emailAddress
          )
          expect(Option.isSome(yield* stored(user))).toBe(true)
          // Disconnect, from the form on the account page.
          yield* step(() => page.getByRole("button", { name: "Disconnect" }).click())
          yield* step(() => page.waitForURL(/\/$/))
          expect(yield* step(() => page.locator("#status").innerText())).toContain("not connected")
          expect(Option.isNone(yield* stored(user))).toBe(true)
        })))

    it.effect("Deny → the app shows not connected and stores nothing", () =>
      withPage("deny", (page) =>
        Effect.gen(function*() {
          const user = yield* signIn(page)
          yield* toConsent(page)
          yield* step(() => page.getByRole("button", { name: "Deny" }).click())
          yield* step(() => page.waitForURL(/\/\?dropbox_sign_error=denied$/))
          expect(yield* step(() => page.locator("#status").innerText())).toContain("not connected")
          expect(yield* step(() => page.locator("#failure").innerText())).toContain("declined")
          expect(Option.isNone(yield* stored(user))).toBe(true)
          expect(yield* stateCookie(page)).toBeUndefined()
        })))

    it.effect("a callback with an altered state is refused and stores nothing", () =>
      withPage("altered state", (page) =>
        Effect.gen(function*() {
          const url = yield* Server.ExampleUrl
          const user = yield* signIn(page)
          yield* toConsent(page)
          // Hold the genuine callback back: Playwright cannot intercept a redirect, so the consent form's answer is
          // fetched aside and the browser gets a 204, which leaves it on the consent page.
          const held = yield* step(() =>
            new Promise<string>((resolve, reject) => {
              page.route((target) => target.pathname === "/oauth/authorize", async (route) => {
                if (route.request().method() !== "POST") return route.continue()
                const answer = await route.fetch({ maxRedirects: 0 })
                const location = answer.headers()["location"]
                await route.fulfill({ status: 204 })
                return location === undefined
                  ? reject(new Error("the consent form was not redirected"))
                  : resolve(location)
              }).then(() => page.getByRole("button", { name: "Authorize" }).click()).catch(reject)
            })
          )
          yield* step(() => page.unrouteAll())
          const genuine = new URL(held)
          expect(genuine.origin).toBe(url)
          const state = genuine.searchParams.get("state")!
          genuine.searchParams.set("state", `${state.slice(0, -1)}${state.endsWith("A") ? "B" : "A"}`)
          const answer = yield* openCallback(page, genuine.href)
          expect(answer.status).toBe(303)
          expect(answer.location).toBe("/?dropbox_sign_error=invalid_state")
          expect(yield* step(() => page.locator("#failure").innerText())).toContain("could not be verified")
          expect(Option.isNone(yield* stored(user))).toBe(true)
        })))

    it.effect("the same callback URL opened twice: the second is refused, the connection stays", () =>
      withPage("callback twice", (page) =>
        Effect.gen(function*() {
          const user = yield* signIn(page)
          yield* toConsent(page)
          const callback = yield* authorize(page)
          yield* step(() => page.waitForURL(/\/account$/))
          const first = yield* stored(user)
          expect(Option.isSome(first)).toBe(true)
          const answer = yield* openCallback(page, callback)
          expect(answer.status).toBe(303)
          expect(answer.location).toBe("/?dropbox_sign_error=invalid_state")
          expect(yield* step(() => page.locator("#status").innerText())).toContain("connected")
          expect(yield* stored(user)).toStrictEqual(first)
        })))

    it.effect("the state cookie is HttpOnly, SameSite=Lax, limited to the routes, short-lived, and cleared", () =>
      withPage("cookie attributes", (page) =>
        Effect.gen(function*() {
          yield* signIn(page)
          const before = Date.now() / 1000
          yield* toConsent(page)
          const cookie = yield* stateCookie(page)
          expect(cookie).toBeDefined()
          expect(cookie?.httpOnly).toBe(true)
          expect(cookie?.sameSite).toBe("Lax")
          // On loopback the app is served over http: no Secure (the handler tests cover Secure elsewhere).
          expect(cookie?.secure).toBe(false)
          expect(cookie?.path).toBe("/dropbox-sign")
          expect(cookie?.domain).toBe("127.0.0.1")
          expect(cookie?.expires).toBeGreaterThan(before + 590)
          expect(cookie?.expires).toBeLessThan(Date.now() / 1000 + 601)
          // Scripts on the application's pages cannot read it.
          yield* step(() => page.goBack())
          expect(yield* step(() => page.evaluate("document.cookie"))).not.toContain("dropbox_sign_oauth")
          yield* toConsent(page)
          yield* authorize(page)
          yield* step(() => page.waitForURL(/\/account$/))
          expect(yield* stateCookie(page)).toBeUndefined()
        })))
  })
}
