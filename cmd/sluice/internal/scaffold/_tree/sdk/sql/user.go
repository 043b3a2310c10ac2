package sql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// profileField is a field of sluice.User a column fills in ScanUser.
type profileField int8

const (
	notProfile profileField = iota - 1
	fieldID
	fieldEmail
	fieldEmailVerified
	fieldPhone
	fieldPhoneVerified
	fieldUsername
	fieldNickname
	fieldName
	fieldGivenName
	fieldFamilyName
	fieldPhoto
	fieldGender
	fieldBirthdate
	fieldAddress
	fieldCompany
	fieldWebsite
	fieldBlocked
	fieldCustomData
)

// profileFields are the User fields by their names, lower case and
// without underscores: "emailVerified" and "email_verified" are both
// "emailverified".
var profileFields = map[string]profileField{
	"id": fieldID, "email": fieldEmail, "emailverified": fieldEmailVerified, "phone": fieldPhone,
	"phoneverified": fieldPhoneVerified, "username": fieldUsername, "nickname": fieldNickname,
	"name": fieldName, "givenname": fieldGivenName, "familyname": fieldFamilyName, "photo": fieldPhoto,
	"gender": fieldGender, "birthdate": fieldBirthdate, "address": fieldAddress, "company": fieldCompany,
	"website": fieldWebsite, "blocked": fieldBlocked, "customdata": fieldCustomData,
}

// fieldOf returns the User field column names, or notProfile.
func fieldOf(column string) profileField {
	var buf [16]byte
	key := buf[:0]
	for i := 0; i < len(column); i++ {
		c := column[i]
		switch {
		case c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if len(key) == len(buf) {
			return notProfile // longer than any field's name
		}
		key = append(key, c)
	}
	if f, ok := profileFields[string(key)]; ok {
		return f
	}
	return notProfile
}

// profileOf maps columns to the User fields they fill.
func profileOf(columns []string) []profileField {
	p := make([]profileField, len(columns))
	for i, c := range columns {
		p[i] = fieldOf(c)
	}
	return p
}

// ScanUser reads the current row as a user profile into u. Each column
// named like a field of sluice.User fills that field: its JSON name or
// the same in snake_case, in any case (emailVerified, email_verified,
// EMAIL_VERIFIED), so a table whose columns carry the profile's names is
// read with plain SELECT id, email, email_verified, ... custom_data.
// The other columns, in order, are scanned into extra as Scan scans
// them:
//
//	var u sluice.User
//	var hash string
//	err := rows.ScanUser(&u, &hash) // SELECT id, email, ..., password_hash
//
// NULL leaves a field empty. An integer id becomes its decimal text; a
// boolean field takes true/false or 1/0 (MySQL's BOOL); custom_data
// takes a JSON object: a json/jsonb column's document, text holding one
// (MariaDB's JSON), or NULL.
func (r *Rows) ScanUser(u *sluice.User, extra ...any) error {
	if r.next == 0 || r.next > len(r.rows) {
		return fmt.Errorf("sql: ScanUser called without a successful Next")
	}
	row := r.rows[r.next-1]
	if r.profile == nil {
		r.profile = profileOf(r.columns)
	}
	if len(r.profile) != len(row) {
		return fmt.Errorf("sql: ScanUser: a row of %d columns in a result of %d", len(row), len(r.profile))
	}
	if n := r.countOthers(); n != len(extra) {
		others := r.others()
		return fmt.Errorf("sql: ScanUser: %d destinations for the %d columns that are no profile field (%s): name columns like the profile's fields, or pass one destination for each of the others",
			len(extra), len(others), strings.Join(others, ", "))
	}
	*u = sluice.User{}
	next := 0
	for i, f := range r.profile {
		var err error
		if f == notProfile {
			typ := ""
			if i < len(r.types) {
				typ = r.types[i]
			}
			err = scanCell(row[i], typ, extra[next])
			next++
		} else {
			err = scanProfile(u, f, row[i])
		}
		if err != nil {
			name := strconv.Itoa(i)
			if i < len(r.columns) {
				name = strconv.Quote(r.columns[i])
			}
			return fmt.Errorf("sql: ScanUser column %s: %w", name, err)
		}
	}
	return nil
}

// countOthers counts the columns that are no profile field.
func (r *Rows) countOthers() int {
	n := 0
	for _, f := range r.profile {
		if f == notProfile {
			n++
		}
	}
	return n
}

// others names the columns that are no profile field.
func (r *Rows) others() []string {
	var names []string
	for i, f := range r.profile {
		if f != notProfile {
			continue
		}
		if i < len(r.columns) {
			names = append(names, strconv.Quote(r.columns[i]))
		} else {
			names = append(names, strconv.Itoa(i))
		}
	}
	return names
}

// ScanUser reads the first row as a user profile (see Rows.ScanUser), or
// returns ErrNoRows.
func (r *Row) ScanUser(u *sluice.User, extra ...any) error {
	if r.err != nil {
		return r.err
	}
	if !r.rows.Next() {
		return ErrNoRows
	}
	return r.rows.ScanUser(u, extra...)
}

// scanProfile stores one cell in field f of u.
func scanProfile(u *sluice.User, f profileField, raw json.RawMessage) error {
	c := cell{raw: raw}
	if n := len(raw); n == 0 || raw[0] <= ' ' || raw[n-1] <= ' ' {
		c.raw = bytes.TrimSpace(raw) // only encoding/json's slow path leaves space
	}
	if c.isNull() {
		return nil
	}
	if c.raw[0] == '"' && f != fieldCustomData && f != fieldEmailVerified && f != fieldPhoneVerified && f != fieldBlocked {
		// The usual text cell: one scan, no copy.
		if end, plain, ok := jsonx.String(c.raw, 0); ok && plain && end == len(c.raw) {
			*textField(u, f) = unsafe.String(unsafe.SliceData(c.raw[1:]), len(c.raw)-2)
			return nil
		}
	}
	switch f {
	case fieldEmailVerified:
		return scanBool(c.raw, &u.EmailVerified)
	case fieldPhoneVerified:
		return scanBool(c.raw, &u.PhoneVerified)
	case fieldBlocked:
		return scanBool(c.raw, &u.Blocked)
	case fieldCustomData:
		m, err := customData(c)
		u.CustomData = m
		return err
	}
	return scanCell(c.raw, "", textField(u, f))
}

// scanBool is scanCell for a boolean field: true/false, or MySQL's 1/0.
func scanBool(raw []byte, dst *bool) error {
	switch string(raw) {
	case "true", "1":
		*dst = true
		return nil
	case "false", "0":
		*dst = false
		return nil
	}
	return scanCell(raw, "", dst) // its error
}

// textOffsets are the offsets in a User of its string fields, by
// profileField (zero for the others).
var textOffsets = [...]uintptr{
	fieldID: unsafe.Offsetof(sluice.User{}.ID), fieldEmail: unsafe.Offsetof(sluice.User{}.Email),
	fieldPhone: unsafe.Offsetof(sluice.User{}.Phone), fieldUsername: unsafe.Offsetof(sluice.User{}.Username),
	fieldNickname: unsafe.Offsetof(sluice.User{}.Nickname), fieldName: unsafe.Offsetof(sluice.User{}.Name),
	fieldGivenName: unsafe.Offsetof(sluice.User{}.GivenName), fieldFamilyName: unsafe.Offsetof(sluice.User{}.FamilyName),
	fieldPhoto: unsafe.Offsetof(sluice.User{}.Photo), fieldGender: unsafe.Offsetof(sluice.User{}.Gender),
	fieldBirthdate: unsafe.Offsetof(sluice.User{}.Birthdate), fieldAddress: unsafe.Offsetof(sluice.User{}.Address),
	fieldCompany: unsafe.Offsetof(sluice.User{}.Company), fieldWebsite: unsafe.Offsetof(sluice.User{}.Website),
	fieldCustomData: 0,
}

// textField returns the string field f of u (f is one of them).
func textField(u *sluice.User, f profileField) *string {
	return (*string)(unsafe.Add(unsafe.Pointer(u), textOffsets[f]))
}

// customData decodes a custom_data cell: a JSON object, or a string
// holding one (MariaDB's JSON is text).
func customData(c cell) (map[string]any, error) {
	doc := []byte(c.raw)
	if s, ok := c.str(); ok {
		doc = unsafe.Slice(unsafe.StringData(s), len(s)) // read only
		if t := bytes.TrimSpace(doc); len(t) == 0 || jsonx.IsNull(t) {
			return nil, nil
		}
	}
	if m, ok := jsonx.DecodeObject(doc); ok {
		return m, nil
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("custom data is not a JSON object: %w", err)
	}
	return m, nil
}
