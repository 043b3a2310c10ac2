package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// userFields are the User's JSON fields and whether each is a boolean.
var userFields = map[string]bool{
	"id": false, "email": false, "emailVerified": true, "phone": false, "phoneVerified": true,
	"username": false, "nickname": false, "name": false, "givenName": false, "familyName": false,
	"photo": false, "gender": false, "birthdate": false, "address": false, "company": false,
	"website": false, "blocked": true,
}

// normalizeUser makes a script's user object a User the way a database
// row usually differs from it: a numeric id becomes a string, snake_case
// columns (email_verified) their camelCase fields, MySQL's 0/1 booleans,
// an _id (MongoDB's ObjectId) the id when there is none. Other keys are
// dropped (a password hash among them).
func normalizeUser(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		key := k
		if strings.Contains(k, "_") && k != "_id" {
			key = camel(k)
		}
		if k == "user_id" || k == "userId" {
			key = "id"
		}
		if key == "customData" {
			if cd, ok := v.(map[string]any); ok {
				out[key] = cd
			}
			continue
		}
		isBool, known := userFields[key]
		if !known || v == nil {
			continue
		}
		if _, set := out[key]; set && key != k {
			continue // the camelCase key wins
		}
		if isBool {
			switch b := v.(type) {
			case bool:
				out[key] = b
			case json.Number:
				out[key] = b.String() != "0"
			case string:
				out[key] = b == "1" || strings.EqualFold(b, "true")
			}
			continue
		}
		switch t := v.(type) {
		case string:
			out[key] = t
		case json.Number:
			out[key] = t.String()
		case bool:
			out[key] = strconv.FormatBool(t)
		case map[string]any:
			if oid, ok := t["$oid"].(string); ok {
				out[key] = oid
			}
		}
	}
	if _, ok := out["id"]; !ok {
		switch t := m["_id"].(type) {
		case string:
			out["id"] = t
		case json.Number:
			out["id"] = t.String()
		case map[string]any:
			if oid, ok := t["$oid"].(string); ok {
				out["id"] = oid
			}
		}
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func decodeUser(fn string, b []byte) (*sluice.User, error) {
	var raw any
	if err := decodeJSON(b, &raw); err != nil {
		return nil, fmt.Errorf("%s returned something that is not JSON: %w", fn, err)
	}
	if raw == nil {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: fmt.Sprintf("%s must return a user object, not %s", fn, string(b))}
	}
	return userOf(normalizeUser(m)), nil
}

// userOf is the User of a normalized user object, whose fields already
// have their types (userFields): no JSON round trip, which costs ~20×
// native in the runtime compiled to wasm (BENCHMARKS.md).
func userOf(m map[string]any) *sluice.User {
	u := new(sluice.User)
	str := func(k string) string { s, _ := m[k].(string); return s }
	flag := func(k string) bool { b, _ := m[k].(bool); return b }
	u.ID, u.Email, u.Phone, u.Username = str("id"), str("email"), str("phone"), str("username")
	u.Nickname, u.Name, u.GivenName, u.FamilyName = str("nickname"), str("name"), str("givenName"), str("familyName")
	u.Photo, u.Gender, u.Birthdate, u.Address = str("photo"), str("gender"), str("birthdate"), str("address")
	u.Company, u.Website = str("company"), str("website")
	u.EmailVerified, u.PhoneVerified, u.Blocked = flag("emailVerified"), flag("phoneVerified"), flag("blocked")
	if cd, ok := m["customData"].(map[string]any); ok && len(cd) > 0 {
		u.CustomData = cd
	}
	return u
}

func decodeList(fn string, b []byte) (*sluice.UserList, error) {
	var raw struct {
		TotalCount any              `json:"totalCount"`
		List       []map[string]any `json:"list"`
	}
	if err := decodeJSON(b, &raw); err != nil {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: fmt.Sprintf("%s must return {totalCount, list}: %v", fn, err)}
	}
	out := &sluice.UserList{List: make([]sluice.User, 0, len(raw.List))}
	switch t := raw.TotalCount.(type) {
	case json.Number:
		n, _ := t.Int64()
		out.TotalCount = int(n)
	case string: // PostgreSQL's count(*) is int8, a string in pg
		n, _ := strconv.Atoi(t)
		out.TotalCount = n
	case nil:
		out.TotalCount = len(raw.List)
	}
	for _, m := range raw.List {
		out.List = append(out.List, *userOf(normalizeUser(m)))
	}
	return out, nil
}
