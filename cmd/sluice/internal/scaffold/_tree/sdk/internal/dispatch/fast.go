package dispatch

import (
	"strconv"
	"unsafe"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Fast paths for the inputs made only of strings (login, getUser,
// validatePassword, deleteUser) and for a user result: in wasm,
// encoding/json's reflection and allocations cost several times what
// the connector's own work does. Each fast path handles exactly the
// documents encoding/json would decode the same way and gives up on the
// rest (a field of the wrong type, a key in other case or escaped,
// invalid JSON), which encoding/json then decodes, errors included.

// decodeFast decodes input into in when in's type has a fast path.
func decodeFast(input []byte, in any) bool {
	d := decoder{b: input}
	switch v := in.(type) {
	case *sluice.LoginInput:
		return d.top(func(key []byte, at int) (int, bool) {
			switch string(key) {
			case "query":
				return d.object(at, func(key []byte, at int) (int, bool) {
					switch string(key) {
					case "email":
						return d.str(at, &v.Query.Email)
					case "username":
						return d.str(at, &v.Query.Username)
					case "phone":
						return d.str(at, &v.Query.Phone)
					}
					return d.unknown(key, at, "email", "username", "phone")
				})
			case "password":
				return d.str(at, &v.Password)
			case "context":
				return d.context(at, &v.Context)
			}
			return d.unknown(key, at, "query", "password", "context")
		})
	case *sluice.GetUserInput:
		return d.top(func(key []byte, at int) (int, bool) {
			switch string(key) {
			case "query":
				return d.object(at, func(key []byte, at int) (int, bool) {
					switch string(key) {
					case "id":
						return d.str(at, &v.Query.ID)
					case "email":
						return d.str(at, &v.Query.Email)
					case "username":
						return d.str(at, &v.Query.Username)
					case "phone":
						return d.str(at, &v.Query.Phone)
					}
					return d.unknown(key, at, "id", "email", "username", "phone")
				})
			case "context":
				return d.context(at, &v.Context)
			}
			return d.unknown(key, at, "query", "context")
		})
	case *sluice.ValidatePasswordInput:
		return d.top(func(key []byte, at int) (int, bool) {
			switch string(key) {
			case "id":
				return d.str(at, &v.ID)
			case "password":
				return d.str(at, &v.Password)
			case "context":
				return d.context(at, &v.Context)
			}
			return d.unknown(key, at, "id", "password", "context")
		})
	case *sluice.DeleteUserInput:
		return d.top(func(key []byte, at int) (int, bool) {
			switch string(key) {
			case "id":
				return d.str(at, &v.ID)
			case "context":
				return d.context(at, &v.Context)
			}
			return d.unknown(key, at, "id", "context")
		})
	}
	return false
}

// decoder walks one input document.
type decoder struct{ b []byte }

type fieldFunc = func(key []byte, at int) (end int, ok bool)

// top decodes the whole input, an object and nothing after it.
func (d *decoder) top(field fieldFunc) bool {
	end, ok := jsonx.Object(d.b, jsonx.SkipWS(d.b, 0), field)
	return ok && jsonx.End(d.b, end)
}

// object decodes the object at d.b[at:]; null leaves the fields as they
// are, as encoding/json does.
func (d *decoder) object(at int, field fieldFunc) (int, bool) {
	if end, ok := d.null(at); ok {
		return end, true
	}
	return jsonx.Object(d.b, at, field)
}

// str decodes the string at d.b[at:] into *dst; null leaves it as it is.
func (d *decoder) str(at int, dst *string) (int, bool) {
	if end, ok := d.null(at); ok {
		return end, true
	}
	end, plain, ok := jsonx.String(d.b, at)
	if !ok {
		return 0, false
	}
	if plain && end-at > 2 {
		// The input is the call's own and never written to: share it.
		*dst = unsafe.String(&d.b[at+1], end-at-2)
		return end, true
	}
	*dst = jsonx.Unquote(d.b[at:end], plain)
	return end, true
}

func (d *decoder) null(at int) (int, bool) {
	if len(d.b)-at >= 4 && string(d.b[at:at+4]) == "null" {
		return at + 4, true
	}
	return 0, false
}

// unknown skips the value of a key that is none of names; a key that
// matches one of them but for case is left to encoding/json.
func (d *decoder) unknown(key []byte, at int, names ...string) (int, bool) {
	for _, n := range names {
		if jsonx.FoldEqual(key, n) {
			return 0, false
		}
	}
	return jsonx.Value(d.b, at)
}

func (d *decoder) context(at int, c *sluice.CallContext) (int, bool) {
	return d.object(at, func(key []byte, at int) (int, bool) {
		switch string(key) {
		case "tenant":
			return d.str(at, &c.Tenant)
		case "connection":
			return d.str(at, &c.Connection)
		case "requestId":
			return d.str(at, &c.RequestID)
		case "ip":
			return d.str(at, &c.IP)
		case "userAgent":
			return d.str(at, &c.UserAgent)
		}
		return d.unknown(key, at, "tenant", "connection", "requestId", "ip", "userAgent")
	})
}

// appendUser appends u as the SDK's encoder (SetEscapeHTML(false))
// writes it; ok is false when CustomData holds a value jsonx.AppendAny
// leaves to encoding/json.
func appendUser(dst []byte, u *sluice.User) ([]byte, bool) {
	dst = append(dst, `{"id":`...)
	dst = jsonx.AppendString(dst, u.ID, false)
	str := func(name, v string) {
		if v != "" {
			dst = append(dst, name...)
			dst = jsonx.AppendString(dst, v, false)
		}
	}
	boolean := func(name string, v bool) {
		if v {
			dst = append(dst, name...)
			dst = strconv.AppendBool(dst, v)
		}
	}
	str(`,"email":`, u.Email)
	boolean(`,"emailVerified":`, u.EmailVerified)
	str(`,"phone":`, u.Phone)
	boolean(`,"phoneVerified":`, u.PhoneVerified)
	str(`,"username":`, u.Username)
	str(`,"nickname":`, u.Nickname)
	str(`,"name":`, u.Name)
	str(`,"givenName":`, u.GivenName)
	str(`,"familyName":`, u.FamilyName)
	str(`,"photo":`, u.Photo)
	str(`,"gender":`, u.Gender)
	str(`,"birthdate":`, u.Birthdate)
	str(`,"address":`, u.Address)
	str(`,"company":`, u.Company)
	str(`,"website":`, u.Website)
	boolean(`,"blocked":`, u.Blocked)
	if len(u.CustomData) > 0 {
		dst = append(dst, `,"customData":`...)
		var ok bool
		if dst, ok = jsonx.AppendAny(dst, u.CustomData); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}
