import { Either } from "effect"

/** Whether `hostname` (as `URL.hostname` gives it) names this machine. */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname.endsWith(".localhost") || /^127(?:\.\d{1,3}){3}$/.test(hostname) ||
  hostname === "[::1]" || hostname === "::1"

/**
 * Validates a base URL: `https://` anywhere, `http://` only on a loopback host, where nothing crosses a network.
 * Returns the URL without a trailing slash, or a sentence saying what is wrong.
 */
export const validateBaseUrl = (input: string): Either.Either<string, string> => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(`"${input}" is not a valid URL`)
  }
  if (url.username !== "" || url.password !== "") return Either.left("credentials in the URL are not allowed")
  if (url.search !== "" || url.hash !== "") return Either.left("a base URL takes no query or fragment")
  if (url.protocol === "https:") return Either.right(trimSlash(url.href))
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return Either.right(trimSlash(url.href))
  if (url.protocol === "http:") {
    return Either.left(`"${url.origin}" must use https:// (plain http:// is only allowed for loopback hosts)`)
  }
  return Either.left(`unsupported protocol "${url.protocol}"`)
}

const trimSlash = (href: string): string => href.endsWith("/") ? href.slice(0, -1) : href
