package sluice

import "encoding/json"

// User is a user profile as the platform sees it. Only ID is required; it
// must not be empty. Every other field is left out of the JSON when empty.
type User struct {
	ID            string         `json:"id"`
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

// NewUser is the user createUser is asked to create: the profile without
// an id (the connector assigns it) and an optional plaintext password.
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
	Blocked       bool           `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
	// Password is the plaintext password; empty when the user has none.
	Password string `json:"password,omitempty"`
}

// Profile returns the new user's profile under the given id (without the
// password).
func (n NewUser) Profile(id string) User {
	return User{
		ID: id, Email: n.Email, EmailVerified: n.EmailVerified,
		Phone: n.Phone, PhoneVerified: n.PhoneVerified, Username: n.Username,
		Nickname: n.Nickname, Name: n.Name, GivenName: n.GivenName,
		FamilyName: n.FamilyName, Photo: n.Photo, Gender: n.Gender,
		Birthdate: n.Birthdate, Address: n.Address, Company: n.Company,
		Website: n.Website, Blocked: n.Blocked, CustomData: n.CustomData,
	}
}

// UserUpdates is a partial update: a nil field is left as it is, a non-nil
// one is set (a pointer to "" clears a text field). A non-nil CustomData
// replaces the whole object. Password, when set, is the new plaintext
// password.
type UserUpdates struct {
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

// Apply sets every non-nil profile field of the updates on u. It does not
// look at Password: hashing and storing it is the connector's business.
func (up UserUpdates) Apply(u *User) {
	setS := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setB := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	setS(&u.Email, up.Email)
	setB(&u.EmailVerified, up.EmailVerified)
	setS(&u.Phone, up.Phone)
	setB(&u.PhoneVerified, up.PhoneVerified)
	setS(&u.Username, up.Username)
	setS(&u.Nickname, up.Nickname)
	setS(&u.Name, up.Name)
	setS(&u.GivenName, up.GivenName)
	setS(&u.FamilyName, up.FamilyName)
	setS(&u.Photo, up.Photo)
	setS(&u.Gender, up.Gender)
	setS(&u.Birthdate, up.Birthdate)
	setS(&u.Address, up.Address)
	setS(&u.Company, up.Company)
	setS(&u.Website, up.Website)
	setB(&u.Blocked, up.Blocked)
	if up.CustomData != nil {
		u.CustomData = up.CustomData
	}
}

// UserList is a page of users: searchUser's and listUsers' result.
// TotalCount counts all matching users, not only this page.
type UserList struct {
	TotalCount int    `json:"totalCount"`
	List       []User `json:"list"`
}

// MarshalJSON encodes an empty List as [] rather than null.
func (l UserList) MarshalJSON() ([]byte, error) {
	type plain UserList
	if l.List == nil {
		l.List = []User{}
	}
	return json.Marshal(plain(l))
}

// CallContext describes the platform request a call serves.
type CallContext struct {
	Tenant     string `json:"tenant"`
	Connection string `json:"connection"`
	RequestID  string `json:"requestId"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
}

// LoginQuery names the account logging in: usually exactly one field is set.
type LoginQuery struct {
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// LoginInput is the input of login.
type LoginInput struct {
	Query    LoginQuery  `json:"query"`
	Password string      `json:"password"`
	Context  CallContext `json:"context"`
}

// UserQuery names the user getUser looks for: usually exactly one field is set.
type UserQuery struct {
	ID       string `json:"id,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// GetUserInput is the input of getUser.
type GetUserInput struct {
	Query   UserQuery   `json:"query"`
	Context CallContext `json:"context"`
}

// SearchUserInput is the input of searchUser. Page is 1-based.
type SearchUserInput struct {
	Keyword string      `json:"keyword"`
	Page    int         `json:"page"`
	Limit   int         `json:"limit"`
	Context CallContext `json:"context"`
}

// CreateUserInput is the input of createUser.
type CreateUserInput struct {
	User    NewUser     `json:"user"`
	Context CallContext `json:"context"`
}

// UpdateUserInput is the input of updateUser.
type UpdateUserInput struct {
	ID      string      `json:"id"`
	Updates UserUpdates `json:"updates"`
	Context CallContext `json:"context"`
}

// DeleteUserInput is the input of deleteUser.
type DeleteUserInput struct {
	ID      string      `json:"id"`
	Context CallContext `json:"context"`
}

// ListUsersInput is the input of listUsers. Page is 1-based.
type ListUsersInput struct {
	Page    int         `json:"page"`
	Limit   int         `json:"limit"`
	Context CallContext `json:"context"`
}

// ValidatePasswordInput is the input of validatePassword.
type ValidatePasswordInput struct {
	ID       string      `json:"id"`
	Password string      `json:"password"`
	Context  CallContext `json:"context"`
}

// ABIVersion is the version of the guest ABI (ABI.md) this SDK speaks; a
// module built with it exports sluice_abi_version returning it.
const ABIVersion = 1
