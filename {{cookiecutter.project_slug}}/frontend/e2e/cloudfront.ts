import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

interface ViewerRequest {
  uri: string
}
export type ViewerRequestHandler = (event: { request: ViewerRequest }) => ViewerRequest

interface Resource {
  Type?: string
  Properties?: {
    FunctionCode?: string
    ResponseHeadersPolicyConfig?: {
      // A !Sub with variables reads as [text, variables].
      SecurityHeadersConfig?: { ContentSecurityPolicy?: { ContentSecurityPolicy?: string | [string, unknown] } }
    }
  }
}

/** What the local server takes from the distribution in the stack template, to serve the site as it does. */
export interface Distribution {
  /** The viewer-request function (client-side routes get index.html). */
  viewerRequest: ViewerRequestHandler
  /** The Content-Security-Policy it sends, letting the app fetch from `apiOrigin`. */
  contentSecurityPolicy(apiOrigin: string): string
}

export function loadDistribution(templatePath: string): Distribution {
  // CloudFormation's short forms (!Ref, !Sub...) read as plain values: only literals are used here.
  const template = parse(readFileSync(templatePath, 'utf8'), { logLevel: 'error' }) as {
    Resources?: Record<string, Resource>
  }
  const resources = Object.values(template.Resources ?? {})
  const only = <T>(type: string, pick: (resource: Resource) => T | undefined): T => {
    const found = resources.filter((resource) => resource.Type === type).map(pick)
    const [value] = found
    if (found.length !== 1 || value === undefined) {
      throw new Error(`${templatePath} must define exactly one ${type}, with what the browser tests read from it`)
    }
    return value
  }
  const code = only('AWS::CloudFront::Function', (resource) => resource.Properties?.FunctionCode)
  const policySource = only(
    'AWS::CloudFront::ResponseHeadersPolicy',
    (resource) =>
      resource.Properties?.ResponseHeadersPolicyConfig?.SecurityHeadersConfig?.ContentSecurityPolicy
        ?.ContentSecurityPolicy,
  )
  const policy = Array.isArray(policySource) ? policySource[0] : policySource
  // CloudFront runs the code as a script that defines `handler`; so does this.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- trusted code from this project's own template
  const define = new Function(`${code}\nreturn handler`) as () => ViewerRequestHandler
  return {
    viewerRequest: define(),
    // Deployed, the API is an execute-api host; here it is a local port.
    contentSecurityPolicy: (apiOrigin) => policy.replace(/connect-src [^;]*/, `connect-src 'self' ${apiOrigin}`),
  }
}
