// Command webservice is a realistic web-service connector: login and
// getUser call a legacy authentication API (DB_CONNECTION_URI is its base
// URL) with ordinary net/http code through sluicehttp.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	sluicehttp "github.com/sluice-dev/sluice/guest-sdk/http"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var client = &http.Client{Transport: &sluicehttp.Transport{}, Timeout: 5 * time.Second}

// apiUser is the legacy API's user.
type apiUser struct {
	UID      int    `json:"uid"`
	Mail     string `json:"mail"`
	Nick     string `json:"nick"`
	Verified bool   `json:"verified"`
}

func (u apiUser) user() *sluice.User {
	return &sluice.User{ID: fmt.Sprint(u.UID), Email: u.Mail, Nickname: u.Nick, EmailVerified: u.Verified}
}

func base() string { return strings.TrimSuffix(os.Getenv("DB_CONNECTION_URI"), "/") }

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		body, _ := json.Marshal(map[string]string{"email": in.Query.Email, "password": in.Password})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base()+"/api/v1/authenticate", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", os.Getenv("API_KEY"))
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var u apiUser
			if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
				return nil, fmt.Errorf("decoding the auth API's answer: %w", err)
			}
			return u.user(), nil
		case http.StatusUnauthorized:
			return nil, sluice.ErrWrongPassword
		case http.StatusNotFound:
			return nil, sluice.ErrUserNotFound
		default:
			return nil, fmt.Errorf("auth API answered %s", resp.Status)
		}
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		resp, err := client.Get(base() + "/api/v1/users?email=" + url.QueryEscape(in.Query.Email))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("user API answered %s", resp.Status)
		}
		var u apiUser
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			return nil, err
		}
		return u.user(), nil
	})
}

func main() {}
