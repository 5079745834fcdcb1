import { useEffect, useState } from 'preact/hooks'
import { ApiError, type QuestionDetail } from '../api'
import { useApi } from '../api-context'
import { TextForm } from '../components/text-form'
import { answerCount, errorText, formatDate } from '../format'

/** `/questions/<id>`: a question with its answers, and a form to answer it. */
export function QuestionPage({ id }: { id: string }) {
  const api = useApi()
  const [question, setQuestion] = useState<QuestionDetail | null>(null)
  const [error, setError] = useState<unknown>(null)

  useEffect(() => {
    let current = true // a later id (or leaving the page) makes this answer stale
    setQuestion(null)
    setError(null)
    api.getQuestion(id).then(
      (loaded) => {
        if (current) setQuestion(loaded)
      },
      (failure: unknown) => {
        if (current) setError(failure)
      },
    )
    return () => {
      current = false
    }
  }, [api, id])

  async function answer(text: string) {
    await api.answerQuestion(id, text)
    // Read the question back: its answers and count as the API now has them.
    setQuestion(await api.getQuestion(id))
  }

  if (error) {
    const notFound = error instanceof ApiError && error.status === 404
    return (
      <section>
        <h2>{notFound ? 'Question not found' : 'The question could not be loaded'}</h2>
        {!notFound && (
          <p class="error" role="alert">
            {errorText(error)}
          </p>
        )}
        <p>
          <a href="/">All questions</a>
        </p>
      </section>
    )
  }
  if (!question) return <p aria-live="polite">Loading…</p>

  return (
    <article>
      <p>
        <a href="/">← All questions</a>
      </p>
      <h2>{question.text}</h2>
      <p class="meta">
        <span data-testid="answer-count">{answerCount(question.answer_count)}</span> · asked{' '}
        <time dateTime={question.created_at}>{formatDate(question.created_at)}</time>
      </p>
      <ol class="answers">
        {question.answers.map((item) => (
          <li key={item.id}>
            <p>{item.text}</p>
            <time class="meta" dateTime={item.created_at}>
              {formatDate(item.created_at)}
            </time>
          </li>
        ))}
      </ol>
      <section aria-labelledby="answer-heading">
        <h3 id="answer-heading">Your answer</h3>
        <TextForm label="Answer" submitLabel="Post answer" maxLength={5000} onSubmit={answer} />
      </section>
    </article>
  )
}
