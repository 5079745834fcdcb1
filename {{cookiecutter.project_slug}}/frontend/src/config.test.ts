import { describe, expect, it, vi } from 'vitest'
import { ConfigError, loadConfig, parseConfig } from './config'

const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com'

describe('parseConfig', () => {
  it('takes the API base URL without its trailing slash', () => {
    expect(parseConfig({ apiBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/' })).toEqual({
      apiBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    })
  })

  it.each([
    [null, /no "apiBaseUrl"/],
    [{}, /no "apiBaseUrl"/],
    [{ apiBaseUrl: 42 }, /no "apiBaseUrl"/],
    [{ apiBaseUrl: '/api' }, /not an absolute URL/],
    [{ apiBaseUrl: 'javascript:alert(1)' }, /http\(s\) URL/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message)
  })
})

describe('loadConfig', () => {
  it('reads /config.json past the HTTP cache', async () => {
    const fetchImpl = vi.fn(() => Promise.resolve(Response.json({ apiBaseUrl: API_URL })))
    await expect(loadConfig(fetchImpl)).resolves.toEqual({ apiBaseUrl: API_URL })
    expect(fetchImpl).toHaveBeenCalledWith('/config.json', { cache: 'no-store' })
  })

  it('fails with the status when the file is missing', async () => {
    const fetchImpl = () => Promise.resolve(new Response('Not Found', { status: 404 }))
    const loading = loadConfig(fetchImpl)
    await expect(loading).rejects.toBeInstanceOf(ConfigError)
    await expect(loading).rejects.toThrow('HTTP 404')
  })
})
