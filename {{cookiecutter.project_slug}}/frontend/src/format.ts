export function answerCount(count: number): string {
  return count === 1 ? '1 answer' : `${String(count)} answers`
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
