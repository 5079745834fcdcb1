import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const siteUrl = inject('siteUrl')
const apiUrl = inject('apiUrl')
const FOREIGN_ORIGIN = 'https://elsewhere.example'
const HOST_IP = '127.0.0.1'

// No browser is downloaded: the machine's Chromium (or Chrome) is driven, CHROME_PATH when set.
const CHROME_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

// What the page waits for goes through the local API, which a loaded CI machine may
// answer slowly: a poll waits this long (Vitest's default is one second).
const POLL = { timeout: 15_000 }

let browser: Browser

beforeAll(async () => {
  const executablePath = process.env.CHROME_PATH ?? CHROME_CANDIDATES.find((path) => existsSync(path))
  if (!executablePath) {
    throw new Error(`no Chromium found (${CHROME_CANDIDATES.join(', ')}): install it or set CHROME_PATH`)
  }
  browser = await chromium.launch({
    executablePath,
    // No sandbox: CI containers run as root. No background traffic: only this site and its API.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterAll(async () => {
  await browser.close()
})

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  return { page, problems }
}

describe('the site against the local API', () => {
  it('asks, answers, and keeps the answer count through a reload of the deep link', async () => {
    const { page, problems } = await openPage()
    const text = `Does the deep link survive a reload? ${String(Date.now())}`

    await page.goto(siteUrl)
    await page.getByRole('textbox', { name: 'Your question' }).fill(text)
    await page.getByRole('button', { name: 'Ask' }).click()
    const listed = page.getByRole('listitem').filter({ hasText: text })
    await expect.poll(() => listed.textContent(), POLL).toContain('0 answers')

    // Client-side navigation: the page is not reloaded (the marker survives).
    await page.evaluate(() => {
      Object.assign(window, { notReloaded: true })
    })
    await listed.getByRole('link').click()
    await page.getByRole('heading', { name: text }).waitFor()
    const path = new URL(page.url()).pathname
    expect(path).toMatch(/^\/questions\/[^/]+$/)
    expect(await page.evaluate(() => 'notReloaded' in window)).toBe(true)

    await page.getByRole('textbox', { name: 'Answer' }).fill('Yes: CloudFront answers it with index.html.')
    await page.getByRole('button', { name: 'Post answer' }).click()
    await expect.poll(() => page.getByTestId('answer-count').textContent(), POLL).toBe('1 answer')

    // A reload asks the server for the deep link itself.
    const reload = await page.reload()
    expect(reload?.status()).toBe(200)
    expect(new URL(page.url()).pathname).toBe(path)
    await page.getByRole('heading', { name: text }).waitFor()
    expect(await page.getByTestId('answer-count').textContent()).toBe('1 answer')
    await page.getByText('Yes: CloudFront answers it with index.html.').waitFor()

    // Back to the list: the count is the API's.
    await page.getByRole('link', { name: '← All questions' }).click()
    await expect
      .poll(() => page.getByRole('listitem').filter({ hasText: text }).textContent(), POLL)
      .toContain('1 answer')

    expect(problems).toEqual([])
    await page.close()
  })

  it('answers a missing file with an error, not with the app', async () => {
    const missing = await fetch(`${siteUrl}/assets/missing-0123abcd.js`)
    expect(missing.status).toBeGreaterThanOrEqual(400)
    expect(await missing.text()).not.toContain('<div id="app">')
  })

  it('serves the runtime configuration', async () => {
    const response = await fetch(`${siteUrl}/config.json`)
    expect(await response.json()).toEqual({ apiBaseUrl: apiUrl })
  })
})

describe('CORS on the API', () => {
  it("lets the site's origin send JSON (preflight, then the request)", async () => {
    const preflight = await fetch(`${apiUrl}/questions`, {
      method: 'OPTIONS',
      headers: {
        Origin: siteUrl,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(preflight.ok).toBe(true)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(siteUrl)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')

    const created = await fetch(`${apiUrl}/questions`, {
      method: 'POST',
      headers: { Origin: siteUrl, 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Asked across origins?' }),
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('access-control-allow-origin')).toBe(siteUrl)
  })

  it('gives another origin no CORS headers', async () => {
    for (const method of ['OPTIONS', 'GET']) {
      const response = await fetch(`${apiUrl}/questions`, {
        method,
        headers: { Origin: FOREIGN_ORIGIN, 'Access-Control-Request-Method': 'GET' },
      })
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('blocks the app when it is served from an origin the API does not allow', async () => {
    const { page } = await openPage()
    // The same site under another name is another origin: the browser must refuse the API's answers.
    await page.goto(siteUrl.replace(HOST_IP, 'localhost'))
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/fetch/i)
    await page.close()
  })
})
