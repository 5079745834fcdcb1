import { useId, useState } from 'preact/hooks'
import type { TargetedSubmitEvent } from 'preact'
import { errorText } from '../format'

interface TextFormProps {
  label: string
  submitLabel: string
  maxLength: number
  /** Sends the text; a rejection is shown under the field and the text is kept. */
  onSubmit: (text: string) => Promise<void>
}

/** One text area and a button: asking a question, answering one. */
export function TextForm({ label, submitLabel, maxLength, onSubmit }: TextFormProps) {
  const id = useId()
  const [text, setText] = useState('')
  const [sending, setSending] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function submit(event: TargetedSubmitEvent<HTMLFormElement>) {
    event.preventDefault()
    setSending(true)
    setError(null)
    try {
      await onSubmit(text)
      setText('')
    } catch (failure) {
      setError(errorText(failure))
    } finally {
      setSending(false)
    }
  }

  return (
    <form class="text-form" onSubmit={(event) => void submit(event)}>
      <label for={id}>{label}</label>
      <textarea
        id={id}
        rows={3}
        required
        maxLength={maxLength}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value)
        }}
      />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={sending}>
        {sending ? 'Sending…' : submitLabel}
      </button>
    </form>
  )
}
