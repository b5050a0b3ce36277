/**
 * Test kit for `@dropbox-sign-effect/oauth`: `FakeDropboxSign` (an in-memory or loopback Dropbox Sign with fault
 * injection) and helpers for tests that wait on I/O or hunt for leaked secrets.
 *
 * @since 0.1.0
 */

/**
 * An in-process and loopback stand-in for Dropbox Sign's OAuth endpoints, with fault injection, a request log and
 * counters. One `HttpApp`, served either by an in-memory `HttpClient` (`layerClient`) or a real loopback HTTP server
 * (`layerServer`).
 *
 * @since 0.1.0
 */
export * as FakeDropboxSign from "./FakeDropboxSign.js"

/**
 * Proof that secrets do not leak: captures everything an effect shows the outside world (log lines with their
 * annotations and causes, span names, attributes and events) and every printed form of a value, so a test can assert
 * that no canary secret appears in any of them.
 *
 * @since 0.1.0
 */
export * as SecretCanary from "./SecretCanary.js"

/**
 * Driving `TestClock` through effects that also wait on real I/O (response bodies are read through promises), so
 * timing tests stay deterministic without real sleeps.
 *
 * @since 0.1.0
 */
export * as TestTime from "./TestTime.js"
