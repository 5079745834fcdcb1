import { LocationProvider, Route, Router } from 'preact-iso'
import type { Api } from './api'
import { ApiContext } from './api-context'
import { NotFoundPage } from './pages/not-found'
import { QuestionPage } from './pages/question'
import { QuestionsPage } from './pages/questions'

/**
 * Client-side routes. The server answers every extension-less path with
 * index.html (CloudFront's viewer-request function; Vite locally), so a
 * reload or a shared link lands here and the router shows the right page.
 */
export function App({ api }: { api: Api }) {
  return (
    <ApiContext.Provider value={api}>
      <LocationProvider>
        <Router
          onRouteChange={() => {
            window.scrollTo(0, 0)
          }}
        >
          <Route path="/" component={QuestionsPage} />
          <Route path="/questions/:id" component={QuestionPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </LocationProvider>
    </ApiContext.Provider>
  )
}
