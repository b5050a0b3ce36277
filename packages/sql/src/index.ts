/**
 * @since 0.1.0
 */
export * as SqlTokenStore from "./SqlTokenStore.js"
export * as SqlTokenStoreMigrations from "./SqlTokenStoreMigrations.js"
