export function NotFoundPage() {
  return (
    <section>
      <h2>Page not found</h2>
      <p>
        <a href="/">All questions</a>
      </p>
    </section>
  )
}
