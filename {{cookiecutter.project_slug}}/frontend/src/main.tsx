import { render } from 'preact'
import { createApi } from './api'
import { App } from './app'
import { loadConfig } from './config'
import { errorText } from './format'
import './styles.css'

const root = document.getElementById('app')
if (!root) throw new Error('index.html has no element with id "app"')

loadConfig().then(
  (config) => {
    render(<App api={createApi(config.apiBaseUrl)} />, root)
  },
  (error: unknown) => {
    render(
      <p class="error" role="alert">
        The app could not start: {errorText(error)}
      </p>,
      root,
    )
  },
)
