import { defineConfig } from 'vitest/config'

// The browser tests: the built site and the local API, driven in headless Chromium.
// `make frontend-e2e` builds the site and sets the variables e2e/servers.ts reads.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['e2e/servers.ts'],
    // One scenario asks, answers and reloads through the browser and the API: room for a loaded machine.
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
})
