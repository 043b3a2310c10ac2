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
		r.profile = make([]profileField, len(row))
		for i := range row {
			r.profile[i] = notProfile
			if i < len(r.columns) {
				r.profile[i] = fieldOf(r.columns[i])
			}
		}
	}
	if len(r.profile) != len(row) {
		return fmt.Errorf("sql: ScanUser: a row of %d columns in a result of %d", len(row), len(r.profile))
	}
	if others := r.others(); len(others) != len(extra) {
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
	c := cell{raw: bytes.TrimSpace(raw)}
	if c.isNull() {
		return nil
	}
	switch f {
	case fieldEmailVerified:
		return scanCell(c.raw, "", &u.EmailVerified)
	case fieldPhoneVerified:
		return scanCell(c.raw, "", &u.PhoneVerified)
	case fieldBlocked:
		return scanCell(c.raw, "", &u.Blocked)
	case fieldCustomData:
		m, err := customData(c)
		u.CustomData = m
		return err
	}
	return scanCell(c.raw, "", textField(u, f))
}

// textField returns the string field f of u.
func textField(u *sluice.User, f profileField) *string {
	switch f {
	case fieldID:
		return &u.ID
	case fieldEmail:
		return &u.Email
	case fieldPhone:
		return &u.Phone
	case fieldUsername:
		return &u.Username
	case fieldNickname:
		return &u.Nickname
	case fieldName:
		return &u.Name
	case fieldGivenName:
		return &u.GivenName
	case fieldFamilyName:
		return &u.FamilyName
	case fieldPhoto:
		return &u.Photo
	case fieldGender:
		return &u.Gender
	case fieldBirthdate:
		return &u.Birthdate
	case fieldAddress:
		return &u.Address
	case fieldCompany:
		return &u.Company
	}
	return &u.Website
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
