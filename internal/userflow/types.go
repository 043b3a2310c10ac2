package userflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsonx"
)

// Connector calls the functions of one connection's active connector.
type Connector interface {
	// Call runs function with input, a JSON object ("context"
	// included), and returns its JSON result; a failure is an error
	// wrapping *engine.Error.
	Call(ctx context.Context, function string, input json.RawMessage) (json.RawMessage, error)
	// Implements reports whether the connector exports function.
	Implements(function string) bool
}

// CallContext is the "context" every connector input carries.
type CallContext struct {
	Tenant     string `json:"tenant"`
	Connection string `json:"connection"`
	RequestID  string `json:"requestId"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
}

// AppendJSON appends c encoded as encoding/json encodes it, without
// reflection.
func (c CallContext) AppendJSON(b []byte) []byte {
	b = append(b, `{"tenant":`...)
	b = jsonx.AppendString(b, c.Tenant)
	b = append(b, `,"connection":`...)
	b = jsonx.AppendString(b, c.Connection)
	b = append(b, `,"requestId":`...)
	b = jsonx.AppendString(b, c.RequestID)
	if c.IP != "" {
		b = append(b, `,"ip":`...)
		b = jsonx.AppendString(b, c.IP)
	}
	if c.UserAgent != "" {
		b = append(b, `,"userAgent":`...)
		b = jsonx.AppendString(b, c.UserAgent)
	}
	return append(b, '}')
}

// WithContext returns the JSON object input with the field "context": c
// added at its end, written into one buffer. input must be a valid JSON
// object without surrounding space and without a "context" field.
func (c CallContext) WithContext(input []byte) []byte {
	n := len(input) + len(`,"context":{"tenant":"","connection":"","requestId":"","ip":"","userAgent":""}}`) +
		len(c.Tenant) + len(c.Connection) + len(c.RequestID) + len(c.IP) + len(c.UserAgent) + 16
	out := jsonx.Extend(make([]byte, 0, n), input)
	out = append(out, `"context":`...)
	out = c.AppendJSON(out)
	return append(out, '}')
}

// Conn is one connection a flow runs on.
type Conn struct {
	Tenant string
	Name   string
	Mode   engine.Mode
	// Disabled connections never call their connector: in LAZY_MIGRATION
	// local users still log in; registrations and renames, which must ask
	// the connector whether a legacy user exists, answer
	// CodeLegacyUnavailable; anything else answers ErrDisabled.
	Disabled  bool
	Connector Connector
	Context   CallContext
}

// Profile is the user profile of docs/contract.md. Connector results are decoded
// into it, so fields it does not know (a password hash a careless
// connector returns, say) never reach the caller.
type Profile struct {
	ID string `json:"id"`
	// ExternalID is, in LAZY_MIGRATION, the id the connector knows a
	// migrated or imported user by (empty for users registered locally).
	// It is never read from a connector's result: Sluice sets it.
	ExternalID    string         `json:"externalId,omitempty"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"emailVerified,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	PhoneVerified bool           `json:"phoneVerified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"givenName,omitempty"`
	FamilyName    string         `json:"familyName,omitempty"`
	Photo         string         `json:"photo,omitempty"`
	Gender        string         `json:"gender,omitempty"`
	Birthdate     string         `json:"birthdate,omitempty"`
	Address       string         `json:"address,omitempty"`
	Company       string         `json:"company,omitempty"`
	Website       string         `json:"website,omitempty"`
	Blocked       bool           `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
}

// UserList is a page of users.
type UserList struct {
	TotalCount int       `json:"totalCount"`
	List       []Profile `json:"list"`
}

// LoginRequest is the body of a login. Exactly one of Account, Email,
// Username and Phone is set; Account is any of the three.
type LoginRequest struct {
	Account  string `json:"account,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Password string `json:"password"`
}

// LoginResult is a successful login.
type LoginResult struct {
	User   Profile `json:"user"`
	Source string  `json:"source"` // "local" or "connector"
}

// NewUser is the body of a registration or creation: a profile without
// id, and a password.
type NewUser struct {
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"emailVerified,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	PhoneVerified bool           `json:"phoneVerified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"givenName,omitempty"`
	FamilyName    string         `json:"familyName,omitempty"`
	Photo         string         `json:"photo,omitempty"`
	Gender        string         `json:"gender,omitempty"`
	Birthdate     string         `json:"birthdate,omitempty"`
	Address       string         `json:"address,omitempty"`
	Company       string         `json:"company,omitempty"`
	Website       string         `json:"website,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
	Password      string         `json:"password,omitempty"`
}

// Updates is a partial update: nil fields stay as they are.
type Updates struct {
	Email         *string        `json:"email,omitempty"`
	EmailVerified *bool          `json:"emailVerified,omitempty"`
	Phone         *string        `json:"phone,omitempty"`
	PhoneVerified *bool          `json:"phoneVerified,omitempty"`
	Username      *string        `json:"username,omitempty"`
	Nickname      *string        `json:"nickname,omitempty"`
	Name          *string        `json:"name,omitempty"`
	GivenName     *string        `json:"givenName,omitempty"`
	FamilyName    *string        `json:"familyName,omitempty"`
	Photo         *string        `json:"photo,omitempty"`
	Gender        *string        `json:"gender,omitempty"`
	Birthdate     *string        `json:"birthdate,omitempty"`
	Address       *string        `json:"address,omitempty"`
	Company       *string        `json:"company,omitempty"`
	Website       *string        `json:"website,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
	Password      *string        `json:"password,omitempty"`
}

// Bounds of inputs.
const (
	MinPassword    = 1   // for logins: legacy passwords may be short
	MinNewPassword = 8   // for passwords Sluice stores
	MaxPassword    = 128 // bcrypt ignores bytes past 72; nobody types 128
	MaxUsername    = 128 // bytes of UTF-8
	MaxKeyword     = 128
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func invalid(format string, args ...any) error {
	return engine.Errorf(engine.CodeInvalidInput, format, args...)
}

func checkEmail(field, s string) error {
	if len(s) > 254 {
		return invalid("%s is longer than 254 characters", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return invalid("%s %q is not an email address", field, s)
	}
	return nil
}

func checkPhone(field, s string) error {
	if !e164.MatchString(s) {
		return invalid("%s %q is not an E.164 phone number like +14155550101", field, s)
	}
	return nil
}

// checkUsername accepts any username a legacy table may hold: 1 to
// MaxUsername bytes of valid UTF-8, not only spaces, without control,
// format (zero-width, bidi) or line-separator characters. Spaces, '@',
// '+', '*', quotes and letters of any script are fine.
func checkUsername(field, s string) error {
	if s == "" || len(s) > MaxUsername {
		return invalid("%s must be 1 to %d bytes", field, MaxUsername)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return invalid("%s has a control or invisible character (U+%04X)", field, r)
		}
	}
	if strings.TrimSpace(s) == "" {
		return invalid("%s is only spaces", field)
	}
	return nil
}

func checkPassword(s string, min int) error {
	if len(s) < min || len(s) > MaxPassword {
		return invalid("password must be %d to %d bytes", min, MaxPassword)
	}
	return nil
}

// identify returns the field and value a login names.
func (r LoginRequest) identify() (field, value string, err error) {
	set := 0
	for _, f := range []struct{ name, v string }{{"account", r.Account}, {"email", r.Email}, {"username", r.Username}, {"phone", r.Phone}} {
		if f.v != "" {
			set++
			field, value = f.name, f.v
		}
	}
	if set != 1 {
		return "", "", invalid("give exactly one of account, email, username and phone")
	}
	if field == "account" {
		// An account that is an email address or an E.164 number is one;
		// anything else is a username (legacy usernames may hold '@' or
		// '+': "bob@home", "+bob").
		switch {
		case strings.Contains(value, "@") && checkEmail(field, value) == nil:
			field = "email"
		case e164.MatchString(value):
			field = "phone"
		default:
			field = "username"
		}
	}
	switch field {
	case "email":
		err = checkEmail(field, value)
	case "phone":
		err = checkPhone(field, value)
	default:
		err = checkUsername(field, value)
	}
	if err == nil {
		err = checkPassword(r.Password, MinPassword)
	}
	return field, value, err
}

func (u NewUser) validate(requirePassword bool) error {
	if u.Email == "" && u.Username == "" && u.Phone == "" {
		return invalid("a user needs an email, a username or a phone")
	}
	if u.Email != "" {
		if err := checkEmail("email", u.Email); err != nil {
			return err
		}
	}
	if u.Phone != "" {
		if err := checkPhone("phone", u.Phone); err != nil {
			return err
		}
	}
	if u.Username != "" {
		if err := checkUsername("username", u.Username); err != nil {
			return err
		}
	}
	if u.Password != "" || requirePassword {
		return checkPassword(u.Password, MinNewPassword)
	}
	return nil
}

func (u Updates) validate() error {
	if u.Email != nil && *u.Email != "" {
		if err := checkEmail("email", *u.Email); err != nil {
			return err
		}
	}
	if u.Phone != nil && *u.Phone != "" {
		if err := checkPhone("phone", *u.Phone); err != nil {
			return err
		}
	}
	if u.Username != nil && *u.Username != "" {
		if err := checkUsername("username", *u.Username); err != nil {
			return err
		}
	}
	if u.Password != nil {
		return checkPassword(*u.Password, MinNewPassword)
	}
	return nil
}

// apply sets the non-nil fields of u on p (the password aside).
func (u Updates) apply(p *Profile) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setb := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Email, u.Email)
	setb(&p.EmailVerified, u.EmailVerified)
	set(&p.Phone, u.Phone)
	setb(&p.PhoneVerified, u.PhoneVerified)
	set(&p.Username, u.Username)
	set(&p.Nickname, u.Nickname)
	set(&p.Name, u.Name)
	set(&p.GivenName, u.GivenName)
	set(&p.FamilyName, u.FamilyName)
	set(&p.Photo, u.Photo)
	set(&p.Gender, u.Gender)
	set(&p.Birthdate, u.Birthdate)
	set(&p.Address, u.Address)
	set(&p.Company, u.Company)
	set(&p.Website, u.Website)
	setb(&p.Blocked, u.Blocked)
	if u.CustomData != nil {
		p.CustomData = u.CustomData
	}
}

func (u NewUser) profile(id string) Profile {
	return Profile{
		ID: id, Email: u.Email, EmailVerified: u.EmailVerified, Phone: u.Phone, PhoneVerified: u.PhoneVerified,
		Username: u.Username, Nickname: u.Nickname, Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		Photo: u.Photo, Gender: u.Gender, Birthdate: u.Birthdate, Address: u.Address, Company: u.Company,
		Website: u.Website, CustomData: u.CustomData,
	}
}

// Paging bounds a page request.
func checkPage(page, limit, maxLimit int) error {
	if page < 1 {
		return invalid("page must be 1 or more")
	}
	if limit < 1 || limit > maxLimit {
		return invalid("limit must be 1 to %d", maxLimit)
	}
	return nil
}

// badResult is a connector result that breaks the contract.
func badResult(function, format string, args ...any) error {
	return &ConnectorError{Function: function, Err: &engine.Error{Code: engine.CodeConnectorError, Message: function + " returned " + fmt.Sprintf(format, args...)}}
}

// decodeStrict decodes b into v, naming the field of a type mismatch.
func decodeStrict(function string, b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badResult(function, "%q as a JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return badResult(function, "malformed JSON: %v", err)
	}
	return nil
}

// parseProfile checks a connector's user result.
func parseProfile(function string, b json.RawMessage) (Profile, error) {
	var p Profile
	if len(b) == 0 || b[0] != '{' {
		return p, badResult(function, "%s, want a user object", kindOf(b))
	}
	if err := decodeStrict(function, b, &p); err != nil {
		return p, err
	}
	if p.ID == "" {
		return p, badResult(function, "a user without an \"id\"")
	}
	p.ExternalID = "" // Sluice's to set, never the connector's
	return p, nil
}

// parseOptionalProfile is parseProfile that accepts null.
func parseOptionalProfile(function string, b json.RawMessage) (*Profile, error) {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil, nil
	}
	p, err := parseProfile(function, b)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func parseList(function string, b json.RawMessage) (UserList, error) {
	var raw struct {
		TotalCount *int              `json:"totalCount"`
		List       []json.RawMessage `json:"list"`
	}
	if len(b) == 0 || b[0] != '{' {
		return UserList{}, badResult(function, "%s, want {\"totalCount\",\"list\"}", kindOf(b))
	}
	if err := decodeStrict(function, b, &raw); err != nil {
		return UserList{}, err
	}
	if raw.TotalCount == nil {
		return UserList{}, badResult(function, "no \"totalCount\"")
	}
	if raw.List == nil {
		return UserList{}, badResult(function, "no \"list\"")
	}
	out := UserList{TotalCount: *raw.TotalCount, List: make([]Profile, 0, len(raw.List))}
	for i, item := range raw.List {
		p, err := parseProfile(function, item)
		if err != nil {
			msg := err.Error()
			var ee *engine.Error
			if errors.As(err, &ee) {
				msg = ee.Message
			}
			return UserList{}, badResult(function, "list[%d]: %s", i, strings.TrimPrefix(msg, function+" returned "))
		}
		out.List = append(out.List, p)
	}
	return out, nil
}

// CheckResult checks the successful result out of a connector's function
// as the user-flow routes do, and returns the error they would answer
// (connector_error, a *ConnectorError) when they would refuse it: a user
// without an "id" or with a non-string one, a list without "totalCount",
// deleteUser answering anything but true, ... Tools that run a connector
// outside the user flows (sluice call, the debug route) use it to report
// what production would refuse. A function it does not know passes.
func CheckResult(function string, out json.RawMessage) error {
	var err error
	switch function {
	case "login", "createUser", "updateUser":
		_, err = parseProfile(function, out)
	case "getUser":
		_, err = parseOptionalProfile(function, out)
	case "searchUser", "listUsers":
		_, err = parseList(function, out)
	case "deleteUser":
		err = parseDeleted(out)
	case "validatePassword":
		_, err = parseBool(function, out)
	}
	return err
}

// parseDeleted checks deleteUser's result in CUSTOM_USER_STORE: true.
func parseDeleted(b json.RawMessage) error {
	if ok, err := parseBool("deleteUser", b); err != nil || !ok {
		return badResult("deleteUser", "%s, want true", b)
	}
	return nil
}

func parseBool(function string, b json.RawMessage) (bool, error) {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badResult(function, "%s, want true or false", kindOf(b))
}

func kindOf(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
