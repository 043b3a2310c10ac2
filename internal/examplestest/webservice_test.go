package examplestest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/hostfuncs"
)

func TestWebService(t *testing.T) {
	t.Parallel()
	api := newLegacyAPI("k3y")
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	runSuite(t, fixture{
		example: "webservice",
		conn: loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: "webservice", ConfigVersion: 1, DBType: "http",
			URI: srv.URL + "/api/v1/", Allowlist: []string{"127.0.0.1"}}),
		env: map[string]string{"API_KEY": "k3y"},
		ids: map[string]string{"alice": "u1", "bob": "u2", "carol": "u3", "dave": "u4"},
		hash: func(t *testing.T, id string) string {
			api.mu.Lock()
			defer api.mu.Unlock()
			if u := api.find(func(u *legacyUser) bool { return u.ID == id }); u != nil {
				return u.hash
			}
			t.Fatalf("no user %s", id)
			return ""
		},
	})
}

// legacyUser is a user of the legacy service, in its JSON form.
type legacyUser struct {
	ID            string         `json:"id"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	PhoneVerified bool           `json:"phone_verified,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	CustomData    map[string]any `json:"custom_data,omitempty"`
	hash          string
}

// legacyAPI is an in-memory implementation of the REST API
// examples/webservice/README.md documents, under /api/v1/.
type legacyAPI struct {
	*http.ServeMux
	apiKey string
	mu     sync.Mutex
	users  []*legacyUser
	nextID int
}

func newLegacyAPI(apiKey string) *legacyAPI {
	a := &legacyAPI{ServeMux: http.NewServeMux(), apiKey: apiKey}
	for _, s := range seedUsers {
		a.nextID++
		a.users = append(a.users, &legacyUser{ID: "u" + strconv.Itoa(a.nextID), Email: s.email,
			EmailVerified: s.emailVerified, Username: s.username, Phone: s.phone, PhoneVerified: s.phoneVerified,
			Nickname: s.nickname, Name: s.name, CustomData: s.customData, hash: seedHashes()[s.key]})
	}
	a.handle("POST /api/v1/auth", a.auth)
	a.handle("GET /api/v1/users", a.list)
	a.handle("POST /api/v1/users", a.create)
	a.handle("GET /api/v1/users/{id}", a.get)
	a.handle("PATCH /api/v1/users/{id}", a.update)
	a.handle("DELETE /api/v1/users/{id}", a.delete)
	a.handle("POST /api/v1/users/{id}/verify-password", a.verifyPassword)
	return a
}

// handle registers h behind the API key check and the lock.
func (a *legacyAPI) handle(pattern string, h func(http.ResponseWriter, *http.Request)) {
	a.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != a.apiKey {
			reply(w, http.StatusForbidden, map[string]string{"error": "bad API key"})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		h(w, r)
	})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]string{"error": msg})
}

func (a *legacyAPI) find(match func(*legacyUser) bool) *legacyUser {
	for _, u := range a.users {
		if match(u) {
			return u
		}
	}
	return nil
}

// taken reports whether another user than u has one of u's identifiers.
func (a *legacyAPI) taken(u *legacyUser) bool {
	return a.find(func(o *legacyUser) bool {
		return o.ID != u.ID && (u.Email != "" && strings.EqualFold(o.Email, u.Email) ||
			u.Username != "" && strings.EqualFold(o.Username, u.Username) || u.Phone != "" && o.Phone == u.Phone)
	}) != nil
}

func (a *legacyAPI) auth(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Username, Phone, Password string }
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		fail(w, http.StatusBadRequest, "bad JSON")
		return
	}
	u := a.find(func(u *legacyUser) bool {
		return in.Email != "" && strings.EqualFold(u.Email, in.Email) ||
			in.Username != "" && strings.EqualFold(u.Username, in.Username) || in.Phone != "" && u.Phone == in.Phone
	})
	switch {
	case u == nil:
		fail(w, http.StatusNotFound, "no such user")
	case u.hash == "" || bcrypt.CompareHashAndPassword([]byte(u.hash), []byte(in.Password)) != nil:
		fail(w, http.StatusUnauthorized, "bad credentials")
	default:
		reply(w, http.StatusOK, u)
	}
}

func (a *legacyAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var found []*legacyUser
	for _, u := range a.users {
		kw := strings.ToLower(q.Get("q"))
		if (q.Get("email") == "" || strings.EqualFold(u.Email, q.Get("email"))) &&
			(q.Get("username") == "" || strings.EqualFold(u.Username, q.Get("username"))) &&
			(q.Get("phone") == "" || u.Phone == q.Get("phone")) &&
			(kw == "" || slices.ContainsFunc([]string{u.Email, u.Username, u.Nickname, u.Name, u.Phone},
				func(s string) bool { return strings.Contains(strings.ToLower(s), kw) })) {
			found = append(found, u)
		}
	}
	page, _ := strconv.Atoi(q.Get("page"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, limit = max(page, 1), max(limit, 1)
	out := struct {
		Total int           `json:"total"`
		Users []*legacyUser `json:"users"`
	}{Total: len(found), Users: []*legacyUser{}}
	for i := (page - 1) * limit; i < len(found) && i < page*limit; i++ {
		out.Users = append(out.Users, found[i])
	}
	reply(w, http.StatusOK, out)
}

func (a *legacyAPI) get(w http.ResponseWriter, r *http.Request) {
	if u := a.find(func(u *legacyUser) bool { return u.ID == r.PathValue("id") }); u != nil {
		reply(w, http.StatusOK, u)
		return
	}
	fail(w, http.StatusNotFound, "no such user")
}

func (a *legacyAPI) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		legacyUser
		Password string `json:"password"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		fail(w, http.StatusBadRequest, "bad JSON")
		return
	}
	u := in.legacyUser
	u.ID = "u" + strconv.Itoa(a.nextID+1)
	if u.Email == "" && u.Username == "" && u.Phone == "" {
		fail(w, http.StatusBadRequest, "email, username or phone required")
		return
	}
	if a.taken(&u) {
		fail(w, http.StatusConflict, "user exists")
		return
	}
	if !a.setPassword(w, &u, in.Password) {
		return
	}
	a.nextID++
	a.users = append(a.users, &u)
	reply(w, http.StatusCreated, &u)
}

// update applies a partial JSON object: present keys change, "" clears.
func (a *legacyAPI) update(w http.ResponseWriter, r *http.Request) {
	u := a.find(func(u *legacyUser) bool { return u.ID == r.PathValue("id") })
	if u == nil {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	var patch map[string]any
	if json.NewDecoder(r.Body).Decode(&patch) != nil {
		fail(w, http.StatusBadRequest, "bad JSON")
		return
	}
	pw, hasPW := patch["password"].(string)
	delete(patch, "password")
	merged := map[string]any{}
	b, _ := json.Marshal(u)
	json.Unmarshal(b, &merged)
	for k, v := range patch {
		merged[k] = v
	}
	b, _ = json.Marshal(merged)
	next := legacyUser{hash: u.hash}
	if json.Unmarshal(b, &next) != nil {
		fail(w, http.StatusBadRequest, "bad field")
		return
	}
	if a.taken(&next) {
		fail(w, http.StatusConflict, "user exists")
		return
	}
	if hasPW && !a.setPassword(w, &next, pw) {
		return
	}
	*u = next
	reply(w, http.StatusOK, u)
}

func (a *legacyAPI) setPassword(w http.ResponseWriter, u *legacyUser, pw string) bool {
	if pw == "" {
		return true
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return false
	}
	u.hash = string(h)
	return true
}

func (a *legacyAPI) delete(w http.ResponseWriter, r *http.Request) {
	for i, u := range a.users {
		if u.ID == r.PathValue("id") {
			a.users = slices.Delete(a.users, i, i+1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	fail(w, http.StatusNotFound, "no such user")
}

func (a *legacyAPI) verifyPassword(w http.ResponseWriter, r *http.Request) {
	u := a.find(func(u *legacyUser) bool { return u.ID == r.PathValue("id") })
	if u == nil {
		fail(w, http.StatusNotFound, "no such user")
		return
	}
	var in struct{ Password string }
	json.NewDecoder(r.Body).Decode(&in)
	ok := u.hash != "" && bcrypt.CompareHashAndPassword([]byte(u.hash), []byte(in.Password)) == nil
	reply(w, http.StatusOK, map[string]bool{"valid": ok})
}
