/** A typed client for the QandA API (see the OpenAPI document at /openapi.json). */

export interface Question {
  id: string
  text: string
  created_at: string
  answer_count: number
}

export interface Answer {
  id: string
  question_id: string
  text: string
  created_at: string
}

export interface QuestionDetail extends Question {
  answers: Answer[]
}

export interface QuestionPage {
  items: Question[]
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null
}

export interface Api {
  listQuestions(cursor?: string | null): Promise<QuestionPage>
  getQuestion(id: string): Promise<QuestionDetail>
  askQuestion(text: string): Promise<Question>
  answerQuestion(questionId: string, text: string): Promise<Answer>
}

/** An error answer from the API, with the message to show for it. */
export class ApiError extends Error {
  override name = 'ApiError'

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const PAGE_SIZE = 10

export function createApi(baseUrl: string, fetchImpl: typeof fetch = fetch): Api {
  async function call<T>(path: string, init?: { method: string; headers: Record<string, string>; body: string }): Promise<T> {
    const response = await fetchImpl(`${baseUrl}${path}`, {
      ...init,
      headers: { Accept: 'application/json', ...init?.headers },
    })
    const body: unknown = await response.json().catch(() => null)
    if (!response.ok) {
      throw new ApiError(response.status, errorMessage(response, body))
    }
    return body as T
  }

  const post = <T>(path: string, payload: unknown) =>
    call<T>(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    })

  return {
    listQuestions(cursor) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) })
      if (cursor) query.set('cursor', cursor)
      return call(`/questions?${query.toString()}`)
    },
    getQuestion: (id) => call(`/questions/${encodeURIComponent(id)}`),
    askQuestion: (text) => post('/questions', { text }),
    answerQuestion: (questionId, text) => post(`/questions/${encodeURIComponent(questionId)}/answers`, { text }),
  }
}

/**
 * The API answers errors as JSON: `{"message": ...}`, or for invalid input
 * `{"errors": {"json": {"text": ["Must not be blank."]}}}` (one list per field).
 */
function errorMessage(response: Response, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { message, errors } = body as { message?: unknown; errors?: unknown }
    const fieldMessages = Object.values(errors ?? {}).flatMap((fields: unknown) =>
      Object.values(fields ?? {}).flat().filter((item): item is string => typeof item === 'string'),
    )
    if (fieldMessages.length > 0) return fieldMessages.join(' ')
    if (typeof message === 'string') return message
  }
  return `The API answered ${String(response.status)} ${response.statusText}`.trim()
}
