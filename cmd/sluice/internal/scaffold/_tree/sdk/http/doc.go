// Package sluicehttp lets a connector call web services with ordinary
// net/http code. A connector has no sockets: Transport is an
// http.RoundTripper that hands each request to the host (the
// http.request host call), which sends it through the connection's egress
// allowlist and returns the response.
//
//	client := sluicehttp.Client()
//	resp, err := client.Post(os.Getenv("DB_CONNECTION_URI")+"/login",
//		"application/json", bytes.NewReader(body))
//	if err != nil {
//		return nil, err // an *sluice.Error inside: egress_denied, timeout, http_error, ...
//	}
//	defer resp.Body.Close()
//	switch resp.StatusCode { ... }
//
// Statuses are never errors: a 401 or a 500 is a response like a 200.
// A failed request returns the host's *sluice.Error wrapped in the
// *url.Error net/http makes, so errors.As(err, &sluiceErr) finds its code:
// egress_denied (the allowlist refused the address, or a redirect's),
// timeout (no complete response within the host's per-request timeout,
// or the request context's deadline), resource_exhausted (the response
// is over the host's size limit, 1 MiB by default), http_error (connection
// refused, TLS failure, ...) or invalid_input (a method other than GET,
// POST, PUT, PATCH, DELETE and HEAD, a scheme other than http and https,
// or a Host header).
//
// Transport follows the http.RoundTripper contract and does not follow
// redirects itself: the http.Client does, as usual, and each hop is a new
// host call checked against the allowlist. A deadline of the request's
// context (http.Client.Timeout, context.WithTimeout) is passed to the host
// as the request's timeout; the host's own timeout still applies. The
// host call blocks, so cancelling a context has no effect once the
// request is sent. There is no cookie jar unless you set one; the
// package is named sluicehttp so it does not shadow net/http.
package sluicehttp
