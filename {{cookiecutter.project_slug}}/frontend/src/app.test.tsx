import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PAGE_SIZE } from './api'
import { App } from './app'
import { FakeApi } from './test/fake-api'

beforeEach(() => {
  history.replaceState(null, '', '/')
})
afterEach(cleanup)

function questionLinks() {
  return within(screen.getByRole('list')).getAllByRole('link')
}

async function submit(label: string, text: string, button: string) {
  fireEvent.input(screen.getByLabelText(label), { target: { value: text } })
  fireEvent.click(screen.getByRole('button', { name: button }))
  await screen.findByRole('button', { name: button }) // enabled again once sent
}

describe('the question list', () => {
  it('shows the newest questions first and loads more with the cursor', async () => {
    const texts = Array.from({ length: PAGE_SIZE + 2 }, (_, index) => `Question ${String(index + 1)}`)
    render(<App api={new FakeApi(texts)} />)

    await screen.findByText(`Question ${String(PAGE_SIZE + 2)}`)
    expect(questionLinks()).toHaveLength(PAGE_SIZE)
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }))

    await screen.findByText('Question 1')
    expect(questionLinks().map((link) => link.textContent)).toEqual([...texts].reverse())
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull()
  })

  it('puts an asked question on top, with no answers yet', async () => {
    render(<App api={new FakeApi(['An old one'])} />)
    await screen.findByText('An old one')

    await submit('Your question', 'What is a cold start?', 'Ask')

    const [first] = questionLinks()
    expect(first?.textContent).toBe('What is a cold start?')
    expect(first?.closest('li')?.textContent).toContain('0 answers')
    expect(screen.getByLabelText<HTMLTextAreaElement>('Your question').value).toBe('')
  })

  it("shows the API's message when asking fails, and keeps the text", async () => {
    render(<App api={new FakeApi()} />)
    await screen.findByText(/No questions yet/)

    await submit('Your question', '   ', 'Ask')

    expect(screen.getByRole('alert').textContent).toBe('Must not be blank.')
    expect(screen.getByLabelText<HTMLTextAreaElement>('Your question').value).toBe('   ')
  })
})

describe('a question page', () => {
  it('opens from the list at its own URL, without reloading', async () => {
    render(<App api={new FakeApi(['Where are the logs?'])} />)

    fireEvent.click(await screen.findByRole('link', { name: 'Where are the logs?' }))

    await screen.findByRole('heading', { name: 'Where are the logs?' })
    expect(location.pathname).toBe('/questions/q1')
  })

  it('answers from a deep link, and the count rises', async () => {
    history.replaceState(null, '', '/questions/q1')
    render(<App api={new FakeApi(['How do I deploy?'])} />)
    await screen.findByRole('heading', { name: 'How do I deploy?' })
    expect(screen.getByTestId('answer-count').textContent).toBe('0 answers')

    await submit('Answer', 'make deploy', 'Post answer')

    expect(screen.getByTestId('answer-count').textContent).toBe('1 answer')
    expect(within(screen.getByRole('list')).getByText('make deploy')).toBeTruthy()
  })

  it('says so when the question does not exist', async () => {
    history.replaceState(null, '', '/questions/nope')
    render(<App api={new FakeApi()} />)
    await screen.findByRole('heading', { name: 'Question not found' })
  })
})

it('shows "page not found" for an unknown client route', async () => {
  history.replaceState(null, '', '/no/such/page')
  render(<App api={new FakeApi()} />)
  await screen.findByRole('heading', { name: 'Page not found' })
})
