package sluice

import (
	"encoding/json"
	"fmt"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
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
	case map[string]string:
		body = jsonx.AppendStringMap(nil, r)
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
	result, errSpan, ok := splitEnvelope(raw)
	if !ok {
		return decodeHostResponseSlow(op, raw, resp)
	}
	if errSpan != nil && !jsonx.IsNull(errSpan) {
		e := new(Error)
		if err := json.Unmarshal(errSpan, e); err != nil {
			return decodeHostResponseSlow(op, raw, resp)
		}
		if e.Code == "" {
			e.Code = "host_error"
		}
		return e
	}
	return decodeResult(op, result, resp)
}

// splitEnvelope finds the result and error values of a well-formed
// envelope without decoding them. ok is false for anything unusual (a
// key that differs from "result" or "error" only by case, a repeated
// key, invalid JSON): encoding/json then decodes it.
//
// The host writes a result as {"result":<its JSON>} (ABI.md), which is
// taken apart without a scan: the decoder of the result checks it.
func splitEnvelope(raw []byte) (result, errSpan []byte, ok bool) {
	const prefix = `{"result":`
	if len(raw) > len(prefix)+1 && string(raw[:len(prefix)]) == prefix && raw[len(raw)-1] == '}' {
		return raw[len(prefix) : len(raw)-1], nil, true
	}
	i := jsonx.SkipWS(raw, 0)
	end, ok := jsonx.Object(raw, i, func(key []byte, at int) (int, bool) {
		end, ok := jsonx.Value(raw, at)
		if !ok {
			return 0, false
		}
		switch string(key) {
		case "result":
			if result != nil {
				return 0, false
			}
			result = raw[at:end]
		case "error":
			if errSpan != nil {
				return 0, false
			}
			errSpan = raw[at:end]
		default:
			if jsonx.FoldEqual(key, "result") || jsonx.FoldEqual(key, "error") {
				return 0, false
			}
		}
		return end, true
	})
	if !ok || !jsonx.End(raw, end) {
		return nil, nil, false
	}
	return result, errSpan, true
}

func decodeResult(op string, result []byte, resp any) error {
	if resp == nil || len(result) == 0 {
		return nil
	}
	if r, ok := resp.(*json.RawMessage); ok {
		*r = append((*r)[0:0], result...)
		return nil
	}
	if err := json.Unmarshal(result, resp); err != nil {
		return fmt.Errorf("sluice: host call %s: decode result: %w", op, err)
	}
	return nil
}

func decodeHostResponseSlow(op string, raw []byte, resp any) error {
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
	return decodeResult(op, env.Result, resp)
}
