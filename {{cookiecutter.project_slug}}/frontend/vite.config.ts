import { defineConfig } from 'vitest/config'
import type { Connect, Plugin } from 'vite'

// The API the app calls when Vite serves it: `make dev` names its own (PORT), the
// browser tests theirs. A deployed site gets its /config.json from `make deploy` instead.
const localApiUrl = process.env.API_URL

export default defineConfig({
  plugins: [localRuntimeConfig(localApiUrl)],
  // `make dev` gives the port (SITE_PORT); taken, it stops rather than move where the API's CORS would refuse it.
  server: { strictPort: true },
  preview: { port: 4173, strictPort: true },
  build: {
    // Every browser with ES modules and private class fields: no legacy bundle.
    target: 'es2022',
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
})

/** Serves /config.json as `make deploy` writes it, pointing the app at the local API. */
function localRuntimeConfig(apiBaseUrl: string | undefined): Plugin {
  const serve = (middlewares: Connect.Server) => {
    middlewares.use('/config.json', (_request, response) => {
      response.setHeader('Cache-Control', 'no-cache')
      if (apiBaseUrl === undefined) {
        // The page shows the status; the body says why.
        response.statusCode = 500
        response.setHeader('Content-Type', 'text/plain')
        response.end('API_URL is not set: run the app with `make dev`, which names the local API')
        return
      }
      response.setHeader('Content-Type', 'application/json')
      response.end(JSON.stringify({ apiBaseUrl }))
    })
  }
  return {
    name: 'local-runtime-config',
    configureServer(server) {
      serve(server.middlewares)
    },
    configurePreviewServer(server) {
      serve(server.middlewares)
    },
  }
}
