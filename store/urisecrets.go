package store

import (
	"net/url"
	"strings"
)

// secretParams are the query parameters of a connection URI whose
// values are secrets.
var secretParams = []string{"password", "pass", "pwd", "secret", "token", "key", "apikey", "api_key", "access_token", "sslpassword"}

// IsSecretParam tells whether a connection URI's query parameter (any
// case) holds a secret: the API masks its value, the call log redacts it.
func IsSecretParam(name string) bool {
	name = strings.ToLower(name)
	for _, p := range secretParams {
		if p == name {
			return true
		}
	}
	return false
}

// URISecrets are the secrets of a connection URI: the password of its
// user info and the values of its secret query parameters, each both
// as written in the URI (escaped) and decoded. A URI that does not
// parse has none.
func URISecrets(uri string) []string {
	u, err := url.Parse(uri)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
			// As written: what follows the user name's ':' in the user info.
			if rest, ok := strings.CutPrefix(uri, u.Scheme+"://"); ok {
				if end := strings.IndexAny(rest, "/?#"); end >= 0 {
					rest = rest[:end] // the authority
				}
				if at := strings.LastIndex(rest, "@"); at >= 0 {
					if _, w, ok := strings.Cut(rest[:at], ":"); ok {
						out = append(out, w)
					}
				}
			}
		}
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		if dk, err := url.QueryUnescape(k); err == nil && IsSecretParam(dk) {
			out = append(out, v)
			if dv, err := url.QueryUnescape(v); err == nil {
				out = append(out, dv)
			}
		}
	}
	return out
}
