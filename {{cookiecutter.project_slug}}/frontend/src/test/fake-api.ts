import { type Answer, type Api, ApiError, PAGE_SIZE, type Question, type QuestionDetail } from '../api'

/** The API's behaviour in memory: newest first, cursor pages, counts that rise with answers. */
export class FakeApi implements Api {
  private questions: QuestionDetail[] = []
  private sequence = 0

  constructor(texts: string[] = []) {
    for (const text of texts) this.add(text)
  }

  listQuestions(cursor?: string | null) {
    const start = cursor ? Number(cursor) : 0
    const newestFirst = [...this.questions].reverse()
    const items = newestFirst.slice(start, start + PAGE_SIZE).map(summary)
    const next = start + PAGE_SIZE < newestFirst.length ? String(start + PAGE_SIZE) : null
    return Promise.resolve({ items, next_cursor: next })
  }

  getQuestion(id: string) {
    const question = this.questions.find((candidate) => candidate.id === id)
    if (!question) return Promise.reject(new ApiError(404, `Question ${id} does not exist.`))
    return Promise.resolve(structuredClone(question))
  }

  askQuestion(text: string) {
    if (!text.trim()) return Promise.reject(new ApiError(400, 'Must not be blank.'))
    return Promise.resolve(summary(this.add(text.trim())))
  }

  async answerQuestion(questionId: string, text: string) {
    const question = this.questions.find((candidate) => candidate.id === questionId)
    if (!question) throw new ApiError(404, `Question ${questionId} does not exist.`)
    const answer: Answer = { id: this.nextId('a'), question_id: questionId, text, created_at: this.now() }
    question.answers.push(answer)
    question.answer_count += 1
    return Promise.resolve(answer)
  }

  private add(text: string): QuestionDetail {
    const question = { id: this.nextId('q'), text, created_at: this.now(), answer_count: 0, answers: [] }
    this.questions.push(question)
    return question
  }

  private nextId(prefix: string) {
    this.sequence += 1
    return `${prefix}${String(this.sequence)}`
  }

  private now() {
    return new Date(Date.UTC(2026, 0, 1, 0, this.sequence)).toISOString()
  }
}

function summary({ id, text, created_at, answer_count }: QuestionDetail): Question {
  return { id, text, created_at, answer_count }
}
