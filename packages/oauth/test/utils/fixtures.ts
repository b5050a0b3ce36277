/** The official Dropbox Sign fixture values, for conformance tests. */
export const fixtures = {
  state: "900e06e2",
  code: "1b0d28d90c86c141",
  clientId: "cc91c61d00f8bb2ece1428035716b",
  clientSecret: "1d14434088507ffa390e6f5528465",
  refreshToken: "hNTI2MTFmM2VmZDQxZTZjOWRmZmFjZmVmMGMyNGFjMzI2MGI5YzgzNmE3",
  accessToken: "NWNiOTMxOGFkOGVjMDhhNTAxZN2NkNjgxMjMwOWJiYTEzZTBmZGUzMjMThhMzYyMzc=",
  expiresIn: 86400,
  tokenType: "Bearer"
} as const

export const tokenResponseJson = {
  access_token: fixtures.accessToken,
  token_type: fixtures.tokenType,
  refresh_token: fixtures.refreshToken,
  expires_in: fixtures.expiresIn,
  state: fixtures.state
}
