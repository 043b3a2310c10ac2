package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	sluicehttp "github.com/sluice-dev/sluice/guest-sdk/http"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Page sizes of searchUser and listUsers.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// apiUser is sluice.User with the service's field names. It has the same
// fields in the same order, so sluice.User(a) converts it.
type apiUser struct {
	ID            string         `json:"id"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	PhoneVerified bool           `json:"phone_verified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Photo         string         `json:"photo,omitempty"`
	Gender        string         `json:"gender,omitempty"`
	Birthdate     string         `json:"birthdate,omitempty"`
	Address       string         `json:"address,omitempty"`
	Company       string         `json:"company,omitempty"`
	Website       string         `json:"website,omitempty"`
	Blocked       bool           `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"custom_data,omitempty"`
}

// apiNewUser is sluice.NewUser with the service's field names.
type apiNewUser struct {
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"email_verified,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	PhoneVerified bool           `json:"phone_verified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Name          string         `json:"name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Photo         string         `json:"photo,omitempty"`
	Gender        string         `json:"gender,omitempty"`
	Birthdate     string         `json:"birthdate,omitempty"`
	Address       string         `json:"address,omitempty"`
	Company       string         `json:"company,omitempty"`
	Website       string         `json:"website,omitempty"`
	Blocked       bool           `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"custom_data,omitempty"`
	Password      string         `json:"password,omitempty"`
}

// apiChanges is sluice.UserUpdates with the service's field names: a nil
// field is left out of the PATCH body.
type apiChanges struct {
	Email         *string        `json:"email,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	Phone         *string        `json:"phone,omitempty"`
	PhoneVerified *bool          `json:"phone_verified,omitempty"`
	Username      *string        `json:"username,omitempty"`
	Nickname      *string        `json:"nickname,omitempty"`
	Name          *string        `json:"name,omitempty"`
	GivenName     *string        `json:"given_name,omitempty"`
	FamilyName    *string        `json:"family_name,omitempty"`
	Photo         *string        `json:"photo,omitempty"`
	Gender        *string        `json:"gender,omitempty"`
	Birthdate     *string        `json:"birthdate,omitempty"`
	Address       *string        `json:"address,omitempty"`
	Company       *string        `json:"company,omitempty"`
	Website       *string        `json:"website,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	CustomData    map[string]any `json:"custom_data,omitempty"`
	Password      *string        `json:"password,omitempty"`
}

// apiList is a page of the service's users.
type apiList struct {
	Total int       `json:"total"`
	Users []apiUser `json:"users"`
}

func (l *apiList) userList() *sluice.UserList {
	list := &sluice.UserList{TotalCount: l.Total, List: make([]sluice.User, 0, len(l.Users))}
	for _, u := range l.Users {
		list.List = append(list.List, sluice.User(u))
	}
	return list
}

// client calls the legacy service.
type client struct {
	base   *url.URL
	apiKey string
	http   *http.Client
}

// open returns a client of the service at DB_CONNECTION_URI that sends
// API_KEY, when set, as the X-API-Key header.
func open() (*client, error) {
	base, err := url.Parse(os.Getenv("DB_CONNECTION_URI"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, errors.New("DB_CONNECTION_URI must be the service's base URL, such as https://users.example.com/api/")
	}
	return &client{base: base, apiKey: os.Getenv("API_KEY"), http: sluicehttp.Client()}, nil
}

// do sends method path?query (path relative to the base URL) with body
// as JSON (none when nil) and decodes a 2xx answer into out (unless nil).
// Other statuses are errors: see statusError.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("X-API-Key", c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // keeps the host's code: egress_denied, timeout, http_error...
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(method, u.Path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, u.Path, err)
	}
	return nil
}

// statusError maps the service's error statuses to the contract's codes,
// with the service's {"error": "..."} message when it sends one.
func statusError(method, path string, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = http.StatusText(status)
	}
	switch status {
	case http.StatusBadRequest:
		return sluice.InvalidInput(e.Error)
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: %w", e.Error, sluice.ErrWrongPassword)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w", e.Error, sluice.ErrUserNotFound)
	case http.StatusConflict:
		return fmt.Errorf("%s: %w", e.Error, sluice.ErrUserExists)
	}
	return fmt.Errorf("%s %s: the service answered %d: %s", method, path, status, e.Error)
}

// userPath is the path of user id. An id that cannot name a path segment
// names no user.
func userPath(id string, rest string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", sluice.ErrUserNotFound
	}
	return "users/" + url.PathEscape(id) + rest, nil
}

func (c *client) login(ctx context.Context, q sluice.LoginQuery, pw string) (*sluice.User, error) {
	if q.Email == "" && q.Username == "" && q.Phone == "" {
		return nil, sluice.InvalidInput("the query needs an email, username or phone")
	}
	body := struct {
		sluice.LoginQuery
		Password string `json:"password"`
	}{q, pw}
	var u apiUser
	if err := c.do(ctx, http.MethodPost, "auth", nil, body, &u); err != nil {
		return nil, err
	}
	return (*sluice.User)(&u), nil
}

// get returns the user q names, or nil when the service has none.
func (c *client) get(ctx context.Context, q sluice.UserQuery) (*sluice.User, error) {
	if q.ID != "" {
		path, err := userPath(q.ID, "")
		if err != nil {
			return nil, nil
		}
		var u apiUser
		err = c.do(ctx, http.MethodGet, path, nil, nil, &u)
		if errors.Is(err, sluice.ErrUserNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return (*sluice.User)(&u), nil
	}
	query := url.Values{}
	switch {
	case q.Email != "":
		query.Set("email", q.Email)
	case q.Username != "":
		query.Set("username", q.Username)
	case q.Phone != "":
		query.Set("phone", q.Phone)
	default:
		return nil, sluice.InvalidInput("the query needs an id, email, username or phone")
	}
	var found apiList
	if err := c.do(ctx, http.MethodGet, "users", query, nil, &found); err != nil {
		return nil, err
	}
	if len(found.Users) == 0 {
		return nil, nil
	}
	return (*sluice.User)(&found.Users[0]), nil
}

// list returns page (1-based) of the users matching keyword (all users
// when it is empty).
func (c *client) list(ctx context.Context, keyword string, page, limit int) (*sluice.UserList, error) {
	if limit < 1 {
		limit = defaultLimit
	}
	query := url.Values{"page": {strconv.Itoa(max(page, 1))}, "limit": {strconv.Itoa(min(limit, maxLimit))}}
	if keyword != "" {
		query.Set("q", keyword)
	}
	var l apiList
	if err := c.do(ctx, http.MethodGet, "users", query, nil, &l); err != nil {
		return nil, err
	}
	return l.userList(), nil
}

func (c *client) create(ctx context.Context, n sluice.NewUser) (*sluice.User, error) {
	if n.Email == "" && n.Username == "" && n.Phone == "" {
		return nil, sluice.InvalidInput("a user needs an email, username or phone")
	}
	var u apiUser
	if err := c.do(ctx, http.MethodPost, "users", nil, apiNewUser(n), &u); err != nil {
		return nil, err
	}
	return (*sluice.User)(&u), nil
}

func (c *client) update(ctx context.Context, id string, up sluice.UserUpdates) (*sluice.User, error) {
	path, err := userPath(id, "")
	if err != nil {
		return nil, err
	}
	var u apiUser
	if err := c.do(ctx, http.MethodPatch, path, nil, apiChanges(up), &u); err != nil {
		return nil, err
	}
	return (*sluice.User)(&u), nil
}

func (c *client) delete(ctx context.Context, id string) error {
	path, err := userPath(id, "")
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil, nil)
}

func (c *client) validatePassword(ctx context.Context, id, pw string) (bool, error) {
	path, err := userPath(id, "/verify-password")
	if err != nil {
		return false, err
	}
	var res struct {
		Valid bool `json:"valid"`
	}
	err = c.do(ctx, http.MethodPost, path, nil, map[string]string{"password": pw}, &res)
	return res.Valid, err
}
