// Package console is the web console that sluice serve answers at
// /console/: plain HTML, CSS and JavaScript modules (no build step, no
// framework), embedded in the binary with go:embed.
//
// Handler serves the files with a strict Content-Security-Policy
// (CSP): scripts, styles and fetches from the page's own origin only,
// nothing inline, no frames. The page holds no secret: the tenant API
// key or operator token a person types in stays in the tab's
// sessionStorage and is sent as the Authorization header of the API
// calls, never in a URL.
package console
