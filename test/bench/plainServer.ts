/**
 * The benchmarks' plain server: Node's own HTTP server answering every request with one fixed token, so that the
 * server's cost per request is as small as a server's can be and the clients' differences show. It runs in a process
 * of its own, prints `{"url": "..."}` on one line once it listens, and exits when its parent goes away.
 */
import * as Http from "node:http"

const answer = Buffer.from(JSON.stringify({
  access_token: "NWNiOTMxOGFkOGVjMDhhNTAxZN2NkNjgxMjMwOWJiYTEzZTBmZGUzMjMThhMzYyMzc=",
  token_type: "Bearer",
  refresh_token: "hNTI2MTFmM2VmZDQxZTZjOWRmZmFjZmVmMGMyNGFjMzI2MGI5YzgzNmE3",
  expires_in: 86400,
  state: null
}))

const headers = { "content-type": "application/json", "content-length": String(answer.length) }

const server = Http.createServer((request, response) => {
  // The request body is read to its end, as any server must, and then ignored.
  request.resume()
  request.once("end", () => {
    response.writeHead(200, headers)
    response.end(answer)
  })
})
server.keepAliveTimeout = 60_000

server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  const port = address !== null && typeof address === "object" ? address.port : 0
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})

process.once("disconnect", () => {
  server.closeAllConnections()
  server.close()
})
