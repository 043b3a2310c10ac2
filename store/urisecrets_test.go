package store_test

import (
	"fmt"
	"testing"

	"github.com/sluice-dev/sluice/store"
)

func TestURISecrets(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"postgres://u:p%40ss@h:5432/db", "[p@ss p%40ss]"},
		{"postgres://u:p%40ss@h/db?user=a@b&sslmode=disable", "[p@ss p%40ss]"},
		{"postgres://u@h/db?password=q%2Fw&PWD=x+y&sslmode=disable", "[q%2Fw q/w x+y x y]"},
		{"postgres://u@h/db", "[]"},
		{"::not a uri", "[]"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			if got := fmt.Sprint(store.URISecrets(tc.uri)); got != tc.want {
				t.Fatalf("URISecrets = %s, want %s", got, tc.want)
			}
		})
	}
}
