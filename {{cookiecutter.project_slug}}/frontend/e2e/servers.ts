/**
 * Starts what the browser tests talk to, on free ports of 127.0.0.1:
 *
 * - the API as `make dev` runs it (`python -m dev.local serve`, with the local
 *   stand-ins of what it uses), allowing the site's origin through CORS;
 * - the built site (dist/), served by `vite preview` as the distribution serves
 *   it: its own viewer-request function rewrites each request (nothing falls
 *   back to index.html, so a missing file stays an error), and its
 *   Content-Security-Policy comes with every answer.
 *
 * Reads API_PYTHON (the project's virtualenv Python) and STACK_TEMPLATE (the
 * CloudFormation template holding the distribution), set by `make frontend-e2e`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Plugin, type PreviewServer, preview } from 'vite'
import type { TestProject } from 'vitest/node'
import { type Distribution, loadDistribution } from './cloudfront'

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string
    apiUrl: string
  }
}

const HOST = '127.0.0.1'
const frontendDir = fileURLToPath(new URL('..', import.meta.url))
const projectDir = fileURLToPath(new URL('../..', import.meta.url))

export default async function setup(project: TestProject) {
  const python = required('API_PYTHON')
  const stackTemplate = required('STACK_TEMPLATE')
  const [apiPort, awsPort, sitePort] = await Promise.all([freePort(), freePort(), freePort()])
  const apiUrl = `http://${HOST}:${String(apiPort)}`
  const siteUrl = `http://${HOST}:${String(sitePort)}`

  // Its own AWS emulator (where the app uses one): a running `make dev` is neither used nor disturbed.
  const api = spawn(python, ['-m', 'dev.local', 'serve', '--port', String(apiPort)], {
    cwd: projectDir,
    env: { ...process.env, PYTHONPATH: 'src', LOCAL_AWS_PORT: String(awsPort), SITE_ORIGINS: siteUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const apiOutput: string[] = []
  api.stdout.on('data', (chunk: Buffer) => apiOutput.push(chunk.toString()))
  api.stderr.on('data', (chunk: Buffer) => apiOutput.push(chunk.toString()))

  let site: PreviewServer
  try {
    await waitForHealth(api, `${apiUrl}/health`, apiOutput)
    // vite.config.ts points /config.json at API_URL.
    process.env.API_URL = apiUrl
    site = await preview({
      root: frontendDir,
      appType: 'custom',
      logLevel: 'warn',
      preview: { host: HOST, port: sitePort, strictPort: true },
      plugins: [asDistributed(loadDistribution(stackTemplate), apiUrl)],
    })
  } catch (error) {
    await stop(api)
    throw error
  }

  project.provide('siteUrl', siteUrl)
  project.provide('apiUrl', apiUrl)
  return async () => {
    await site.close()
    await stop(api)
  }
}

/** Routes each request and adds the CSP as the distribution does. */
function asDistributed(distribution: Distribution, apiOrigin: string): Plugin {
  const contentSecurityPolicy = distribution.contentSecurityPolicy(apiOrigin)
  return {
    name: 'as-distributed',
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        const url = new URL(request.url ?? '/', 'http://site')
        request.url = distribution.viewerRequest({ request: { uri: url.pathname } }).uri + url.search
        response.setHeader('Content-Security-Policy', contentSecurityPolicy)
        next()
      })
    },
  }
}

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the browser tests with \`make frontend-e2e\``)
  return value
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, HOST)
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned')
  return address.port
}

async function waitForHealth(api: ChildProcess, url: string, output: string[]) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (api.exitCode !== null) {
      throw new Error(`the API exited with ${String(api.exitCode)}:\n${output.join('')}`)
    }
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`the API did not answer ${url} within 30 s:\n${output.join('')}`)
}

async function stop(process: ChildProcess) {
  if (process.exitCode !== null || process.signalCode !== null) return
  process.kill('SIGTERM')
  await once(process, 'exit')
}
