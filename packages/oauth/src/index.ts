/**
 * @since 0.1.0
 */
export * as AccountId from "./AccountId.js"
export * as AuthorizationRoutes from "./AuthorizationRoutes.js"
export * as DropboxSignHttpClient from "./DropboxSignHttpClient.js"
export * as OAuthApi from "./OAuthApi.js"
export * as OAuthClient from "./OAuthClient.js"
export * as OAuthConfig from "./OAuthConfig.js"
export * as OAuthError from "./OAuthError.js"
export * as OAuthSchema from "./OAuthSchema.js"
export * as OAuthState from "./OAuthState.js"
export * as OAuthToken from "./OAuthToken.js"
export * as RetryPolicy from "./RetryPolicy.js"
export * as TokenCipher from "./TokenCipher.js"
export * as TokenError from "./TokenError.js"
export * as TokenEvent from "./TokenEvent.js"
export * as TokenManager from "./TokenManager.js"
export * as TokenStore from "./TokenStore.js"
