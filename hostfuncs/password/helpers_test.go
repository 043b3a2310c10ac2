package password

import (
	"encoding/json"
	"strings"
)

func decodeDigestJSON(s string) (Digest, error) {
	var d Digest
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	err := dec.Decode(&d)
	return d, err
}
