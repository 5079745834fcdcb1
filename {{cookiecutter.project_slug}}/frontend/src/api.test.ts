import { describe, expect, it, vi } from 'vitest'
import { ApiError, createApi, PAGE_SIZE } from './api'

const BASE = 'https://api.example.test'

function respond(body: unknown, init: ResponseInit = {}) {
  return vi.fn<typeof fetch>(() => Promise.resolve(Response.json(body, init)))
}

describe('createApi', () => {
  it('lists a page, passing the cursor back', async () => {
    const fetchImpl = respond({ items: [], next_cursor: null })
    const api = createApi(BASE, fetchImpl)
    await api.listQuestions()
    await api.listQuestions('opaque+cursor/=')
    expect(fetchImpl.mock.calls.map(([url]) => url)).toEqual([
      `${BASE}/questions?limit=${String(PAGE_SIZE)}`,
      `${BASE}/questions?limit=${String(PAGE_SIZE)}&cursor=opaque%2Bcursor%2F%3D`,
    ])
  })

  it('posts JSON to ask and to answer', async () => {
    const fetchImpl = respond({ id: 'q1' }, { status: 201 })
    const api = createApi(BASE, fetchImpl)
    await api.askQuestion('Why?')
    await api.answerQuestion('q/1', 'Because.')
    const calls = fetchImpl.mock.calls.map(([url, init]) => ({ url, ...init }))
    expect(calls).toMatchObject([
      { url: `${BASE}/questions`, method: 'POST', body: JSON.stringify({ text: 'Why?' }) },
      { url: `${BASE}/questions/q%2F1/answers`, method: 'POST', body: JSON.stringify({ text: 'Because.' }) },
    ])
    for (const call of calls) {
      expect(call.headers).toMatchObject({ 'Content-Type': 'application/json', Accept: 'application/json' })
    }
  })

  it('reads a question by its escaped id', async () => {
    const fetchImpl = respond({ id: 'a b', answers: [] })
    await expect(createApi(BASE, fetchImpl).getQuestion('a b')).resolves.toMatchObject({ id: 'a b' })
    expect(fetchImpl.mock.calls[0]?.[0]).toBe(`${BASE}/questions/a%20b`)
  })

  it('turns field errors into one message', async () => {
    const fetchImpl = respond(
      { code: 400, status: 'Bad Request', errors: { json: { text: ['Must not be blank.'] } } },
      { status: 400 },
    )
    const asking = createApi(BASE, fetchImpl).askQuestion(' ')
    await expect(asking).rejects.toBeInstanceOf(ApiError)
    await expect(asking).rejects.toMatchObject({ status: 400, message: 'Must not be blank.' })
  })

  it('keeps the API message of other errors', async () => {
    const fetchImpl = respond({ code: 404, status: 'Not Found', message: 'Question q9 does not exist.' }, { status: 404 })
    await expect(createApi(BASE, fetchImpl).getQuestion('q9')).rejects.toMatchObject({
      status: 404,
      message: 'Question q9 does not exist.',
    })
  })

  it('names the status when the body is not JSON', async () => {
    const fetchImpl = vi.fn(() => Promise.resolve(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })))
    await expect(createApi(BASE, fetchImpl).listQuestions()).rejects.toThrow('The API answered 502 Bad Gateway')
  })
})
