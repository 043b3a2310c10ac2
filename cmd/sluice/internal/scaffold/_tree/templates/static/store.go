package main

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"golang.org/x/crypto/bcrypt"
)

// bcryptCost is the cost of hashes made for new and changed passwords,
// the same as the seed users'.
const bcryptCost = 10

// Page sizes of searchUser and listUsers.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// record is one stored user.
type record struct {
	user sluice.User
	hash []byte // bcrypt hash; nil when the user has no password
}

// store is an in-memory user list, in creation order.
type store struct {
	users  []*record
	nextID int
}

// newStore returns the fixed list of demo users (passwords in README.md).
func newStore() *store {
	return &store{nextID: 5, users: []*record{
		{user: sluice.User{ID: "1", Email: "alice@example.com", EmailVerified: true, Username: "alice",
			Phone: "+14155550101", PhoneVerified: true, Nickname: "Alice", Name: "Alice Liddell",
			GivenName: "Alice", FamilyName: "Liddell"},
			hash: []byte("$2a$10$BBwzNich8GdU46z4GJc80.63GCrYnveWyg3QgZRa3BeYCP1kvOtfq")}, // wonderland
		{user: sluice.User{ID: "2", Email: "bob@example.com", EmailVerified: true, Username: "bob",
			Phone: "+442071838750", Nickname: "Bob the Builder", Name: "Bob Builder"},
			hash: []byte("$2a$10$GOsPT435NRh.NZoXsk1YkOgGLzbA.5n7h/rLF.X9rKXX6uKZ20Wze")}, // canwefixit
		{user: sluice.User{ID: "3", Email: "carol@example.org", Username: "carol",
			Phone: "+4930901820", Nickname: "Carol", Company: "Example GmbH"},
			hash: []byte("$2a$10$XPn.J8.PWlq9guU93jmTQe3oq9ERrqCB8B5sfRrPA1.zIMUL0UkK.")}, // jinglebells
		{user: sluice.User{ID: "4", Email: "dave@example.net", Username: "dave",
			Phone: "+61255501234", Nickname: "Dave", CustomData: map[string]any{"plan": "pro"}},
			hash: []byte("$2a$10$xSQsY0ZfJdtZ6Rmnpcr87e6n6I5R8z6cEH4sMkKnhpnJYvEKalvh.")}, // opensesame
	}}
}

// find returns the record matching the first non-empty field of q:
// id, then email and username (case-insensitive), then phone.
func (s *store) find(q sluice.UserQuery) (*record, error) {
	var match func(*record) bool
	switch {
	case q.ID != "":
		match = func(r *record) bool { return r.user.ID == q.ID }
	case q.Email != "":
		match = func(r *record) bool { return strings.EqualFold(r.user.Email, q.Email) }
	case q.Username != "":
		match = func(r *record) bool { return strings.EqualFold(r.user.Username, q.Username) }
	case q.Phone != "":
		match = func(r *record) bool { return r.user.Phone == q.Phone }
	default:
		return nil, sluice.InvalidInput("query needs an id, email, username or phone")
	}
	for _, r := range s.users {
		if match(r) {
			return r, nil
		}
	}
	return nil, nil
}

func (s *store) login(q sluice.LoginQuery, password string) (*sluice.User, error) {
	if q.Email == "" && q.Username == "" && q.Phone == "" {
		return nil, sluice.InvalidInput("query needs an email, username or phone")
	}
	r, err := s.find(sluice.UserQuery{Email: q.Email, Username: q.Username, Phone: q.Phone})
	if err != nil {
		return nil, err
	}
	if r == nil {
		// As long as a wrong password: one bcrypt run of the same cost.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, sluice.ErrUserNotFound
	}
	if !r.checkPassword(password) {
		return nil, sluice.ErrWrongPassword
	}
	return r.profile(), nil
}

func (s *store) get(q sluice.UserQuery) (*sluice.User, error) {
	r, err := s.find(q)
	if r == nil || err != nil {
		return nil, err
	}
	return r.profile(), nil
}

// search returns page (1-based) of the users whose email, username,
// nickname or phone contains keyword, ignoring case; all users when
// keyword is empty.
func (s *store) search(keyword string, page, limit int) *sluice.UserList {
	kw := strings.ToLower(keyword)
	var matches []*record
	for _, r := range s.users {
		u := &r.user
		if kw == "" || strings.Contains(strings.ToLower(u.Email), kw) ||
			strings.Contains(strings.ToLower(u.Username), kw) ||
			strings.Contains(strings.ToLower(u.Nickname), kw) ||
			strings.Contains(u.Phone, kw) {
			matches = append(matches, r)
		}
	}
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	list := &sluice.UserList{TotalCount: len(matches), List: []sluice.User{}}
	for i := (page - 1) * limit; i < len(matches) && i < page*limit; i++ {
		list.List = append(list.List, *matches[i].profile())
	}
	return list
}

func (s *store) create(n sluice.NewUser) (*sluice.User, error) {
	if n.Email == "" && n.Username == "" && n.Phone == "" {
		return nil, sluice.InvalidInput("a user needs an email, username or phone")
	}
	r := &record{user: n.Profile(strconv.Itoa(s.nextID))}
	if err := s.checkUnique(&r.user); err != nil {
		return nil, err
	}
	if n.Password != "" {
		if err := r.setPassword(n.Password); err != nil {
			return nil, err
		}
	}
	s.nextID++
	s.users = append(s.users, r)
	return r.profile(), nil
}

func (s *store) update(id string, up sluice.UserUpdates) (*sluice.User, error) {
	r, _ := s.find(sluice.UserQuery{ID: id})
	if r == nil {
		return nil, sluice.ErrUserNotFound
	}
	u := r.user
	up.Apply(&u)
	if u.Email == "" && u.Username == "" && u.Phone == "" {
		return nil, sluice.InvalidInput("a user needs an email, username or phone")
	}
	if err := s.checkUnique(&u); err != nil {
		return nil, err
	}
	if up.Password != nil {
		if *up.Password == "" {
			return nil, sluice.InvalidInput("password must not be empty")
		}
		if err := r.setPassword(*up.Password); err != nil {
			return nil, err
		}
	}
	r.user = u
	return r.profile(), nil
}

func (s *store) delete(id string) error {
	for i, r := range s.users {
		if r.user.ID == id {
			s.users = append(s.users[:i], s.users[i+1:]...)
			return nil
		}
	}
	return sluice.ErrUserNotFound
}

func (s *store) validatePassword(id, password string) (bool, error) {
	r, _ := s.find(sluice.UserQuery{ID: id})
	if r == nil {
		return false, sluice.ErrUserNotFound
	}
	return r.checkPassword(password), nil
}

// checkUnique fails with user_exists when another user has u's email,
// username or phone.
func (s *store) checkUnique(u *sluice.User) error {
	for _, r := range s.users {
		o := &r.user
		if o.ID == u.ID {
			continue
		}
		switch {
		case u.Email != "" && strings.EqualFold(o.Email, u.Email):
			return fmt.Errorf("email %s is taken: %w", u.Email, sluice.ErrUserExists)
		case u.Username != "" && strings.EqualFold(o.Username, u.Username):
			return fmt.Errorf("username %s is taken: %w", u.Username, sluice.ErrUserExists)
		case u.Phone != "" && o.Phone == u.Phone:
			return fmt.Errorf("phone %s is taken: %w", u.Phone, sluice.ErrUserExists)
		}
	}
	return nil
}

// dummyHash is a bcrypt hash of no one's password, of bcryptCost: what
// a login checks the password against when there is no user or no hash,
// so that every login costs one bcrypt run and its time does not tell
// whether the user exists.
var dummyHash = []byte("$2a$10$ej.mhiNIACqO92cj6.uiD.esOUzQZrnQQRpwSGD0xGbjthrulcvJ.")

// checkPassword reports whether password is the user's; a user without a
// hash has none, and is checked against dummyHash to take as long.
func (r *record) checkPassword(password string) bool {
	if r.hash == nil {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(r.hash, []byte(password)) == nil
}

func (r *record) setPassword(password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return sluice.InvalidInput("password is longer than 72 bytes")
	}
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	r.hash = hash
	return nil
}

// profile returns a copy of the user that callers may keep.
func (r *record) profile() *sluice.User {
	u := r.user
	u.CustomData = maps.Clone(u.CustomData)
	return &u
}
