// Command goserver is the side-by-side benchmark's Go baseline: what a
// platform team would write instead of a Sluice connector. A net/http
// server with a pgx pool runs the SQL examples/postgres runs and answers
// the profile as JSON:
//
//	GET  /users/{id}         getUser by id
//	GET  /users?email=E      getUser by email
//	POST /login {"email","password"}  the lookup, then a bcrypt check
//
// It prints "listening on http://ADDR" when it serves. The benchmark
// (internal/sidebyside) builds and starts it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// columns is examples/postgres's profile, then the password hash.
const columns = `id, coalesce(email, ''), email_verified, coalesce(username, ''),
	coalesce(phone, ''), phone_verified, coalesce(nickname, ''), coalesce(name, ''),
	coalesce(given_name, ''), coalesce(family_name, ''), coalesce(photo, ''),
	coalesce(gender, ''), coalesce(birthdate, ''), coalesce(address, ''),
	coalesce(company, ''), coalesce(website, ''), blocked, coalesce(custom_data, '{}')`

const (
	byEmail = "SELECT " + columns + ", coalesce(password_hash, '') FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1"
	byID    = "SELECT " + columns + ", coalesce(password_hash, '') FROM users WHERE id = $1 ORDER BY id LIMIT 1"
)

// user is the profile as Sluice answers it (guest-sdk/sluice.User).
type user struct {
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

type server struct{ pool *pgxpool.Pool }

// find runs query with arg; a nil user when there is no row.
func (s server) find(ctx context.Context, query string, arg any) (*user, string, error) {
	var u user
	var id int64
	var custom []byte
	var hash string
	err := s.pool.QueryRow(ctx, query, arg).Scan(&id, &u.Email, &u.EmailVerified, &u.Username, &u.Phone,
		&u.PhoneVerified, &u.Nickname, &u.Name, &u.GivenName, &u.FamilyName, &u.Photo, &u.Gender,
		&u.Birthdate, &u.Address, &u.Company, &u.Website, &u.Blocked, &custom, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	u.ID = strconv.FormatInt(id, 10)
	if err := json.Unmarshal(custom, &u.CustomData); err != nil {
		return nil, "", fmt.Errorf("custom_data of user %s: %w", u.ID, err)
	}
	return &u, hash, nil
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s server) lookup(w http.ResponseWriter, r *http.Request, query string, arg any) {
	u, _, err := s.find(r.Context(), query, arg)
	switch {
	case err != nil:
		answer(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
	case u == nil:
		answer(w, http.StatusNotFound, map[string]string{"error": "user_not_found"})
	default:
		answer(w, http.StatusOK, u)
	}
}

func (s server) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	u, hash, err := s.find(r.Context(), byEmail, in.Email)
	switch {
	case err != nil:
		answer(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
	case u == nil:
		answer(w, http.StatusUnauthorized, map[string]string{"error": "user_not_found"})
	case bcrypt.CompareHashAndPassword([]byte(hash), []byte(in.Password)) != nil:
		answer(w, http.StatusUnauthorized, map[string]string{"error": "wrong_password"})
	default:
		answer(w, http.StatusOK, map[string]any{"user": u})
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dsn := flag.String("dsn", "", "PostgreSQL URL of the users table")
	conns := flag.Int("pool", 4, "pool size")
	flag.Parse()
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(2)
	}
	cfg.MaxConns = int32(*conns)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
	s := server{pool: pool}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			answer(w, http.StatusNotFound, map[string]string{"error": "user_not_found"})
			return
		}
		s.lookup(w, r, byID, id)
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		s.lookup(w, r, byEmail, r.URL.Query().Get("email"))
	})
	mux.HandleFunc("POST /login", s.login)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
}
