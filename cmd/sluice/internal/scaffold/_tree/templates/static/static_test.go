//go:build !wasip1

package main

import (
	"errors"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
	"golang.org/x/crypto/bcrypt"
)

// fresh restores the fixed user list and returns a test host.
func fresh(t *testing.T) *sluicetest.Host {
	t.Helper()
	db = newStore()
	return sluicetest.New(t)
}

// ids returns the ids of a list's users.
func ids(l sluice.UserList) []string {
	out := []string{}
	for _, u := range l.List {
		out = append(out, u.ID)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantID  string
		wantErr error
	}{
		{"email", `{"query":{"email":"alice@example.com"},"password":"wonderland"}`, "1", nil},
		{"email any case", `{"query":{"email":"Alice@Example.com"},"password":"wonderland"}`, "1", nil},
		{"username", `{"query":{"username":"bob"},"password":"canwefixit"}`, "2", nil},
		{"phone", `{"query":{"phone":"+4930901820"},"password":"jinglebells"}`, "3", nil},
		{"wrong password", `{"query":{"email":"dave@example.net"},"password":"wonderland"}`, "", sluice.ErrWrongPassword},
		{"no such user", `{"query":{"email":"eve@example.com"},"password":"x"}`, "", sluice.ErrUserNotFound},
		{"no query", `{"password":"x"}`, "", &sluice.Error{Code: sluice.CodeInvalidInput}},
		{"bad json", `{"query":`, "", &sluice.Error{Code: sluice.CodeInvalidInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var u sluice.User
			err := h.Invoke("login", tt.input, &u)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != tt.wantID {
				t.Errorf("logged in %+v, want id %s", u, tt.wantID)
			}
		})
	}
}

func TestLoginResult(t *testing.T) {
	fresh(t)
	out, status := sluicetest.Call(t, "login", `{"query":{"username":"alice"},"password":"wonderland"}`)
	want := `{"id":"1","email":"alice@example.com","emailVerified":true,"phone":"+14155550101","phoneVerified":true,` +
		`"username":"alice","nickname":"Alice","name":"Alice Liddell","givenName":"Alice","familyName":"Liddell"}`
	if status != 0 || out != want {
		t.Errorf("login = %s, %d\nwant    %s", out, status, want)
	}
}

func TestGetUser(t *testing.T) {
	tests := []struct {
		name    string
		query   sluice.UserQuery
		want    string // "null" when absent
		wantErr error
	}{
		{"id", sluice.UserQuery{ID: "4"}, "4", nil},
		{"email", sluice.UserQuery{Email: "BOB@example.com"}, "2", nil},
		{"username", sluice.UserQuery{Username: "carol"}, "3", nil},
		{"phone", sluice.UserQuery{Phone: "+14155550101"}, "1", nil},
		{"absent id", sluice.UserQuery{ID: "99"}, "null", nil},
		{"absent email", sluice.UserQuery{Email: "eve@example.com"}, "null", nil},
		{"empty query", sluice.UserQuery{}, "", &sluice.Error{Code: sluice.CodeInvalidInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var u *sluice.User
			err := h.Invoke("getUser", sluice.GetUserInput{Query: tt.query}, &u)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.want == "null":
				if u != nil {
					t.Errorf("got %+v, want null", u)
				}
			case u == nil || u.ID != tt.want:
				t.Errorf("got %+v, want id %s", u, tt.want)
			}
		})
	}
}

func TestSearchUser(t *testing.T) {
	tests := []struct {
		name      string
		in        sluice.SearchUserInput
		wantIDs   []string
		wantTotal int
	}{
		{"email domain", sluice.SearchUserInput{Keyword: "example.com"}, []string{"1", "2"}, 2},
		{"nickname any case", sluice.SearchUserInput{Keyword: "BUILDER"}, []string{"2"}, 1},
		{"username", sluice.SearchUserInput{Keyword: "car"}, []string{"3"}, 1},
		{"phone", sluice.SearchUserInput{Keyword: "+44"}, []string{"2"}, 1},
		{"no match", sluice.SearchUserInput{Keyword: "zzz"}, []string{}, 0},
		{"page 2", sluice.SearchUserInput{Keyword: "example", Page: 2, Limit: 3}, []string{"4"}, 4},
		{"past the end", sluice.SearchUserInput{Keyword: "example", Page: 3, Limit: 3}, []string{}, 4},
		{"empty keyword", sluice.SearchUserInput{}, []string{"1", "2", "3", "4"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var l sluice.UserList
			if err := h.Invoke("searchUser", tt.in, &l); err != nil {
				t.Fatal(err)
			}
			if got := ids(l); !equal(got, tt.wantIDs) || l.TotalCount != tt.wantTotal {
				t.Errorf("got %v (total %d), want %v (total %d)", got, l.TotalCount, tt.wantIDs, tt.wantTotal)
			}
		})
	}
	fresh(t)
	if out, _ := sluicetest.Call(t, "searchUser", `{"keyword":"nobody"}`); out != `{"totalCount":0,"list":[]}` {
		t.Errorf("empty search = %s", out)
	}
}

func TestListUsers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantIDs []string
	}{
		{"defaults", `{}`, []string{"1", "2", "3", "4"}},
		{"page 1", `{"page":1,"limit":2}`, []string{"1", "2"}},
		{"page 2", `{"page":2,"limit":2}`, []string{"3", "4"}},
		{"page 3", `{"page":3,"limit":2}`, []string{}},
		{"page 0 is 1", `{"page":0,"limit":3}`, []string{"1", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var l sluice.UserList
			if err := h.Invoke("listUsers", tt.in, &l); err != nil {
				t.Fatal(err)
			}
			if got := ids(l); !equal(got, tt.wantIDs) || l.TotalCount != 4 {
				t.Errorf("got %v (total %d), want %v (total 4)", got, l.TotalCount, tt.wantIDs)
			}
		})
	}
}

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name    string
		user    sluice.NewUser
		wantErr error
	}{
		{"new", sluice.NewUser{Email: "eve@example.com", Username: "eve", Phone: "+15005550006", Nickname: "Eve", Password: "apple"}, nil},
		{"no password", sluice.NewUser{Username: "frank"}, nil},
		{"email taken", sluice.NewUser{Email: "ALICE@example.com", Password: "x"}, sluice.ErrUserExists},
		{"username taken", sluice.NewUser{Username: "bob"}, sluice.ErrUserExists},
		{"phone taken", sluice.NewUser{Phone: "+61255501234"}, sluice.ErrUserExists},
		{"no identifier", sluice.NewUser{Nickname: "ghost"}, &sluice.Error{Code: sluice.CodeInvalidInput}},
		{"password too long", sluice.NewUser{Username: "long", Password: string(make([]byte, 73))}, &sluice.Error{Code: sluice.CodeInvalidInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var u sluice.User
			err := h.Invoke("createUser", sluice.CreateUserInput{User: tt.user}, &u)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var total sluice.UserList
				h.Invoke("listUsers", `{}`, &total)
				if total.TotalCount != 4 {
					t.Errorf("a failed create changed the list: %d users", total.TotalCount)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != "5" || u.Email != tt.user.Email || u.Username != tt.user.Username {
				t.Errorf("created %+v", u)
			}
			var got *sluice.User
			if err := h.Invoke("getUser", sluice.GetUserInput{Query: sluice.UserQuery{ID: u.ID}}, &got); err != nil || got == nil {
				t.Fatalf("getUser of the new user: %v, %v", got, err)
			}
			var ok bool
			if err := h.Invoke("validatePassword", sluice.ValidatePasswordInput{ID: u.ID, Password: tt.user.Password}, &ok); err != nil {
				t.Fatal(err)
			}
			if want := tt.user.Password != ""; ok != want {
				t.Errorf("validatePassword of the new user = %v, want %v", ok, want)
			}
		})
	}
}

func TestCreateUserNewIDs(t *testing.T) {
	h := fresh(t)
	var a, b sluice.User
	if err := h.Invoke("createUser", `{"user":{"username":"x1"}}`, &a); err != nil {
		t.Fatal(err)
	}
	if err := h.Invoke("deleteUser", `{"id":"`+a.ID+`"}`, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Invoke("createUser", `{"user":{"username":"x2"}}`, &b); err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Errorf("an id was reused: %s", a.ID)
	}
}

func TestUpdateUser(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(u sluice.User) bool
		wantErr error
	}{
		{"nickname only", `{"id":"1","updates":{"nickname":"Al"}}`,
			func(u sluice.User) bool {
				return u.Nickname == "Al" && u.Email == "alice@example.com" && u.Name == "Alice Liddell"
			}, nil},
		{"clear a field", `{"id":"1","updates":{"name":""}}`,
			func(u sluice.User) bool { return u.Name == "" && u.Nickname == "Alice" }, nil},
		{"flags and custom data", `{"id":"3","updates":{"blocked":true,"customData":{"tier":2}}}`,
			func(u sluice.User) bool { return u.Blocked && u.CustomData["tier"] == 2.0 }, nil},
		{"same email other case", `{"id":"2","updates":{"email":"Bob@example.com"}}`,
			func(u sluice.User) bool { return u.Email == "Bob@example.com" }, nil},
		{"absent", `{"id":"99","updates":{"nickname":"x"}}`, nil, sluice.ErrUserNotFound},
		{"email taken", `{"id":"1","updates":{"email":"bob@example.com"}}`, nil, sluice.ErrUserExists},
		{"empty password", `{"id":"1","updates":{"password":""}}`, nil, &sluice.Error{Code: sluice.CodeInvalidInput}},
		{"no identifier left", `{"id":"1","updates":{"email":"","username":"","phone":""}}`, nil, &sluice.Error{Code: sluice.CodeInvalidInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var u sluice.User
			err := h.Invoke("updateUser", tt.in, &u)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(u) {
				t.Errorf("updated user %+v", u)
			}
			var got *sluice.User
			if err := h.Invoke("getUser", sluice.GetUserInput{Query: sluice.UserQuery{ID: u.ID}}, &got); err != nil || got == nil || !tt.check(*got) {
				t.Errorf("stored user %+v, %v", got, err)
			}
		})
	}
}

func TestUpdatePassword(t *testing.T) {
	h := fresh(t)
	if err := h.Invoke("updateUser", `{"id":"2","updates":{"password":"new-secret"}}`, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Invoke("login", `{"query":{"username":"bob"},"password":"canwefixit"}`, nil); !errors.Is(err, sluice.ErrWrongPassword) {
		t.Errorf("old password: err = %v, want wrong_password", err)
	}
	if err := h.Invoke("login", `{"query":{"username":"bob"},"password":"new-secret"}`, nil); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestDeleteUser(t *testing.T) {
	h := fresh(t)
	out, status := h.Call("deleteUser", `{"id":"2"}`)
	if status != 0 || out != "true" {
		t.Fatalf("deleteUser = %s, %d", out, status)
	}
	if err := h.Invoke("deleteUser", `{"id":"2"}`, nil); !errors.Is(err, sluice.ErrUserNotFound) {
		t.Errorf("second delete: err = %v, want user_not_found", err)
	}
	var l sluice.UserList
	if err := h.Invoke("listUsers", `{}`, &l); err != nil {
		t.Fatal(err)
	}
	if got := ids(l); !equal(got, []string{"1", "3", "4"}) || l.TotalCount != 3 {
		t.Errorf("after delete: %v (total %d)", got, l.TotalCount)
	}
	if err := h.Invoke("login", `{"query":{"username":"bob"},"password":"canwefixit"}`, nil); !errors.Is(err, sluice.ErrUserNotFound) {
		t.Errorf("login of a deleted user: err = %v", err)
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name    string
		in      sluice.ValidatePasswordInput
		want    bool
		wantErr error
	}{
		{"right", sluice.ValidatePasswordInput{ID: "4", Password: "opensesame"}, true, nil},
		{"wrong", sluice.ValidatePasswordInput{ID: "4", Password: "OpenSesame"}, false, nil},
		{"empty", sluice.ValidatePasswordInput{ID: "1"}, false, nil},
		{"absent", sluice.ValidatePasswordInput{ID: "99", Password: "x"}, false, sluice.ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fresh(t)
			var ok bool
			err := h.Invoke("validatePassword", tt.in, &ok)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.want {
				t.Errorf("validatePassword = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

// TestDummyHashCost checks that the hash an unknown user's login is
// checked against costs what a real user's does.
func TestDummyHashCost(t *testing.T) {
	if cost, err := bcrypt.Cost(dummyHash); err != nil || cost != bcryptCost {
		t.Fatalf("dummyHash cost %d, %v; want %d", cost, err, bcryptCost)
	}
}
