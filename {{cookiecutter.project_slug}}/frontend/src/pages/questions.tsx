import { useCallback, useEffect, useState } from 'preact/hooks'
import type { Question } from '../api'
import { useApi } from '../api-context'
import { TextForm } from '../components/text-form'
import { answerCount, errorText, formatDate } from '../format'

/** `/`: ask a question; the questions, newest first, a page at a time. */
export function QuestionsPage() {
  const api = useApi()
  const [questions, setQuestions] = useState<Question[]>([])
  const [nextCursor, setNextCursor] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | null>(null)

  const loadPage = useCallback(
    async (cursor: string | null) => {
      setLoading(true)
      setError(null)
      try {
        const page = await api.listQuestions(cursor)
        // The first page replaces what is shown; "Load more" appends.
        setQuestions((shown) => (cursor ? [...shown, ...page.items] : page.items))
        setNextCursor(page.next_cursor)
      } catch (failure) {
        setError(errorText(failure))
      } finally {
        setLoading(false)
      }
    },
    [api],
  )

  useEffect(() => {
    void loadPage(null)
  }, [loadPage])

  async function ask(text: string) {
    const question = await api.askQuestion(text)
    setQuestions((shown) => [question, ...shown])
  }

  return (
    <>
      <section aria-labelledby="ask-heading">
        <h2 id="ask-heading">Ask a question</h2>
        <TextForm label="Your question" submitLabel="Ask" maxLength={2000} onSubmit={ask} />
      </section>
      <section aria-labelledby="questions-heading">
        <h2 id="questions-heading">Questions</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {!loading && !error && questions.length === 0 && <p>No questions yet: ask the first one.</p>}
        <ul class="questions">
          {questions.map((question) => (
            <li key={question.id}>
              <a href={`/questions/${encodeURIComponent(question.id)}`}>{question.text}</a>
              <span class="meta">
                {answerCount(question.answer_count)} · <time dateTime={question.created_at}>{formatDate(question.created_at)}</time>
              </span>
            </li>
          ))}
        </ul>
        {loading && <p aria-live="polite">Loading…</p>}
        {!loading && nextCursor && (
          <button type="button" onClick={() => void loadPage(nextCursor)}>
            Load more
          </button>
        )}
      </section>
    </>
  )
}
