/**
 * @since 0.1.0
 */
export * as FakeDropboxSign from "./FakeDropboxSign.js"
export * as SecretCanary from "./SecretCanary.js"
export * as TestTime from "./TestTime.js"
