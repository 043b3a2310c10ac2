package egress

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxRedirects is how many redirects HTTPClient follows (as net/http's
// default policy).
const maxRedirects = 10

// HTTPTransport returns an http.Transport whose every connection goes
// through d. Proxies are off (Proxy is nil): an environment proxy would
// otherwise carry requests past the gate. TLS runs over the gated
// connection, with the URL's host name for verification.
func HTTPTransport(d *Dialer) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    4,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// HTTPClient returns a client using HTTPTransport(d) and d.CheckRedirect.
// It sets no overall timeout: bound requests with their context.
func HTTPClient(d *Dialer) *http.Client {
	return &http.Client{Transport: HTTPTransport(d), CheckRedirect: d.CheckRedirect}
}

// CheckRedirect is an http.Client.CheckRedirect that refuses a redirect
// to anything but http or https, more than 10 redirects, and any hop
// whose host the gate would refuse (resolved and checked with Check,
// without connecting). The transport's DialContext checks again when it
// connects; this check makes the refusal happen before the request and
// names the redirect target. The *DeniedError is wrapped in the
// client's *url.Error, so errors.As finds it.
func (d *Dialer) CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("egress: stopped after %d redirects", maxRedirects)
	}
	u := req.URL
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	case "file":
		return Refused(u.Redacted(), ReasonNotNetwork)
	case "unix", "http+unix", "https+unix":
		return Refused(u.Redacted(), ReasonUnixSocket)
	default:
		return errors.New("egress: redirect to unsupported scheme " + u.Scheme)
	}
	return d.Check(req.Context(), u.Hostname(), port)
}
