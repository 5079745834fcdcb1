/**
 * The app's runtime configuration, read from /config.json when it starts.
 *
 * `make deploy` writes that file for each stage from the stack's outputs, so
 * one build serves every stage; locally the Vite server answers it.
 */
export interface Config {
  /** The API's base URL, without a trailing slash. */
  apiBaseUrl: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<Config> {
  // Never from the HTTP cache: a deploy may have pointed the site at another API.
  const response = await fetchImpl('/config.json', { cache: 'no-store' })
  if (!response.ok) {
    throw new ConfigError(`/config.json answered HTTP ${String(response.status)}`)
  }
  return parseConfig(await response.json())
}

export function parseConfig(raw: unknown): Config {
  const value = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).apiBaseUrl : undefined
  if (typeof value !== 'string') {
    throw new ConfigError('/config.json has no "apiBaseUrl" string')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(`apiBaseUrl is not an absolute URL: ${value}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`apiBaseUrl must be an http(s) URL: ${value}`)
  }
  return { apiBaseUrl: value.replace(/\/+$/, '') }
}
