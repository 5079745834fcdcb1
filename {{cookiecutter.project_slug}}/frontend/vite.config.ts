import { defineConfig } from 'vitest/config'
import type { Connect, Plugin } from 'vite'

// The API the app calls when Vite serves it (`make dev`, the browser tests).
// A deployed site gets its /config.json from `make deploy` instead.
const localApiUrl = process.env.API_URL ?? 'http://localhost:5000'

export default defineConfig({
  plugins: [localRuntimeConfig(localApiUrl)],
  server: { port: 5173, strictPort: true },
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
function localRuntimeConfig(apiBaseUrl: string): Plugin {
  const serve = (middlewares: Connect.Server) => {
    middlewares.use('/config.json', (_request, response) => {
      response.setHeader('Content-Type', 'application/json')
      response.setHeader('Cache-Control', 'no-cache')
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
