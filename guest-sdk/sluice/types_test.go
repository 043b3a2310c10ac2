package sluice

import (
	"encoding/json"
	"testing"
)

func TestUserJSON(t *testing.T) {
	tests := []struct {
		name string
		user User
		want string
	}{
		{"id only", User{ID: "1"}, `{"id":"1"}`},
		{"empty id kept", User{}, `{"id":""}`},
		{"camelCase", User{ID: "2", Email: "a@b.c", EmailVerified: true, GivenName: "A", FamilyName: "B", CustomData: map[string]any{"k": 1}},
			`{"id":"2","email":"a@b.c","emailVerified":true,"givenName":"A","familyName":"B","customData":{"k":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestUserListJSON(t *testing.T) {
	tests := []struct {
		name string
		list any
		want string
	}{
		{"nil list", UserList{}, `{"totalCount":0,"list":[]}`},
		{"nil list by pointer", &UserList{TotalCount: 3}, `{"totalCount":3,"list":[]}`},
		{"empty list", UserList{List: []User{}}, `{"totalCount":0,"list":[]}`},
		{"one user", UserList{TotalCount: 1, List: []User{{ID: "1"}}}, `{"totalCount":1,"list":[{"id":"1"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.list)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestInputsDecode(t *testing.T) {
	var in UpdateUserInput
	err := json.Unmarshal([]byte(`{"id":"7","updates":{"nickname":"","blocked":true,"password":"pw","customData":{"a":"b"}},
		"context":{"tenant":"t1","connection":"c1","requestId":"r1","ip":"203.0.113.9","userAgent":"ua"}}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "7" || in.Updates.Nickname == nil || *in.Updates.Nickname != "" || in.Updates.Email != nil ||
		in.Updates.Password == nil || *in.Updates.Password != "pw" {
		t.Errorf("updates decoded as %+v", in.Updates)
	}
	want := CallContext{Tenant: "t1", Connection: "c1", RequestID: "r1", IP: "203.0.113.9", UserAgent: "ua"}
	if in.Context != want {
		t.Errorf("context = %+v, want %+v", in.Context, want)
	}

	u := User{ID: "7", Email: "old@x", Nickname: "old", Name: "kept"}
	in.Updates.Apply(&u)
	if u.Email != "old@x" || u.Nickname != "" || !u.Blocked || u.Name != "kept" || u.CustomData["a"] != "b" {
		t.Errorf("after Apply: %+v", u)
	}
}

func TestNewUserProfile(t *testing.T) {
	n := NewUser{Email: "a@b.c", Username: "a", Phone: "+15550100", Nickname: "A", Password: "secret"}
	u := n.Profile("9")
	b, _ := json.Marshal(u)
	if want := `{"id":"9","email":"a@b.c","phone":"+15550100","username":"a","nickname":"A"}`; string(b) != want {
		t.Errorf("Profile = %s, want %s", b, want)
	}
}
