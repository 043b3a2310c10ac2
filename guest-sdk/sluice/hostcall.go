package sluice

import (
	"encoding/json"
	"fmt"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
)

// HostCall runs host operation op (sql.query, http.request, ...): req is
// encoded as the JSON request (a []byte or json.RawMessage is sent as it
// is) and the operation's result is decoded into resp, unless resp is nil.
// When the host answers with an error, HostCall returns it as an *Error
// with the host's code, message and details.
func HostCall(op string, req any, resp any) error {
	var body []byte
	switch r := req.(type) {
	case json.RawMessage:
		body = r
	case []byte:
		body = r
	default:
		var err error
		if body, err = json.Marshal(req); err != nil {
			return fmt.Errorf("sluice: host call %s: encode request: %w", op, err)
		}
	}
	return decodeHostResponse(op, abi.HostCall(op, body), resp)
}

// hostResponse is the envelope every host call answers with.
type hostResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

func decodeHostResponse(op string, raw []byte, resp any) error {
	var env hostResponse
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("sluice: host call %s: bad response: %w", op, err)
	}
	if env.Error != nil {
		if env.Error.Code == "" {
			env.Error.Code = "host_error"
		}
		return env.Error
	}
	if resp == nil || len(env.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(env.Result, resp); err != nil {
		return fmt.Errorf("sluice: host call %s: decode result: %w", op, err)
	}
	return nil
}
