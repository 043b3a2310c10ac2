package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/mongo"
	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Page sizes of searchUser and listUsers.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// profile is sluice.User with the collection's field names. It has the
// same fields in the same order, so sluice.User(p) and profile(u) convert
// one into the other.
type profile struct {
	ID            string         `json:"-"` // the document's _id instead
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

// changes is sluice.UserUpdates with the collection's field names, for
// $set: a nil field is left out.
type changes struct {
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
	Password      *string        `json:"-"` // stored as password_hash
}

// userDoc is a document of the collection (see init.js).
type userDoc struct {
	ID mongo.ObjectID `json:"_id,omitempty"`
	profile
	PasswordHash string          `json:"password_hash,omitempty"`
	CreatedAt    *mongo.DateTime `json:"created_at,omitempty"`
}

// user returns the document's profile.
func (d *userDoc) user() *sluice.User {
	u := sluice.User(d.profile)
	u.ID = d.ID.Hex()
	return &u
}

// store is the users collection of the connection's database.
type store struct {
	users mongo.Coll
}

// open returns the collection named by the USERS_COLLECTION variable
// ("users" when unset).
func open() (store, error) {
	name := os.Getenv("USERS_COLLECTION")
	if name == "" {
		name = "users"
	}
	if !isName(name) {
		return store{}, fmt.Errorf("USERS_COLLECTION %q is not a collection name (letters, digits, _ and .)", name)
	}
	return store{users: mongo.Collection(name)}, nil
}

func isName(s string) bool {
	for _, c := range s {
		if !(c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != "" && len(s) <= 120 && !strings.HasPrefix(s, "system.")
}

// find returns the document q names, or nil when there is none. Emails
// and usernames are stored in lower case.
func (s store) find(ctx context.Context, q sluice.UserQuery) (*userDoc, error) {
	var filter mongo.M
	switch {
	case q.ID != "":
		id := mongo.ObjectID(q.ID)
		if !id.Valid() {
			return nil, nil // not an id of this collection
		}
		filter = mongo.M{"_id": id}
	case q.Email != "":
		filter = mongo.M{"email": strings.ToLower(q.Email)}
	case q.Username != "":
		filter = mongo.M{"username": strings.ToLower(q.Username)}
	case q.Phone != "":
		filter = mongo.M{"phone": q.Phone}
	default:
		return nil, sluice.InvalidInput("the query needs an id, email, username or phone")
	}
	var d userDoc
	found, err := s.users.FindOne(ctx, filter, &d, mongo.Relaxed())
	if !found || err != nil {
		return nil, err
	}
	return &d, nil
}

func (s store) get(ctx context.Context, q sluice.UserQuery) (*sluice.User, error) {
	d, err := s.find(ctx, q)
	if d == nil || err != nil {
		return nil, err
	}
	return d.user(), nil
}

func (s store) login(ctx context.Context, q sluice.LoginQuery, pw string) (*sluice.User, error) {
	if q.Email == "" && q.Username == "" && q.Phone == "" {
		return nil, sluice.InvalidInput("the query needs an email, username or phone")
	}
	d, err := s.find(ctx, sluice.UserQuery{Email: q.Email, Username: q.Username, Phone: q.Phone})
	if err != nil {
		return nil, err
	}
	if d == nil {
		if _, err := password.Verify(dummyHash, pw); err != nil {
			return nil, err
		}
		return nil, sluice.ErrUserNotFound
	}
	ok, err := d.checkPassword(pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sluice.ErrWrongPassword
	}
	return d.user(), nil
}

func (s store) validatePassword(ctx context.Context, id, pw string) (bool, error) {
	d, err := s.find(ctx, sluice.UserQuery{ID: id})
	if err != nil {
		return false, err
	}
	if d == nil {
		return false, sluice.ErrUserNotFound
	}
	return d.checkPassword(pw)
}

// dummyHash is a bcrypt hash of no one's password, of the cost this
// template writes (10, the host's): what a login checks the password
// against when there is no user or no hash, so that every login costs
// one bcrypt run and its time does not tell whether the user exists.
// Change its cost with the one your store's hashes have.
const dummyHash = "$2a$10$ej.mhiNIACqO92cj6.uiD.esOUzQZrnQQRpwSGD0xGbjthrulcvJ."

// checkPassword checks pw against the stored hash on the host. A user
// without a hash has no password that matches: pw is checked against
// dummyHash instead, so the answer takes as long as a wrong password's.
func (d *userDoc) checkPassword(pw string) (bool, error) {
	if d.PasswordHash == "" {
		_, err := password.Verify(dummyHash, pw)
		return false, err
	}
	ok, err := password.Verify(d.PasswordHash, pw)
	if err != nil {
		// A bad stored hash is the collection's fault, not the caller's
		// input: report it as a connector error (no %w drops the code).
		return false, fmt.Errorf("checking the password hash of user %s: %v", d.ID, err)
	}
	return ok, nil
}

// list returns page (1-based) of the users whose email, username,
// nickname, name or phone contains keyword, ignoring case; all users when
// keyword is empty. Users come in _id (creation) order.
func (s store) list(ctx context.Context, keyword string, page, limit int) (*sluice.UserList, error) {
	if limit < 1 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	page = max(page, 1)
	filter := mongo.M{}
	if keyword != "" {
		re := mongo.M{"$regex": regexp.QuoteMeta(keyword), "$options": "i"}
		filter = mongo.M{"$or": mongo.A{
			mongo.M{"email": re}, mongo.M{"username": re}, mongo.M{"nickname": re},
			mongo.M{"name": re}, mongo.M{"phone": re},
		}}
	}
	total, err := s.users.CountDocuments(ctx, filter)
	if err != nil {
		return nil, err
	}
	var docs []userDoc
	err = s.users.Find(ctx, filter, &docs, mongo.Sort(mongo.M{"_id": 1}),
		mongo.Skip(int64(page-1)*int64(limit)), mongo.Limit(int64(limit)), mongo.Relaxed())
	if err != nil {
		return nil, err
	}
	list := &sluice.UserList{TotalCount: int(total), List: make([]sluice.User, 0, len(docs))}
	for i := range docs {
		list.List = append(list.List, *docs[i].user())
	}
	return list, nil
}

func (s store) create(ctx context.Context, n sluice.NewUser) (*sluice.User, error) {
	if n.Email == "" && n.Username == "" && n.Phone == "" {
		return nil, sluice.InvalidInput("a user needs an email, username or phone")
	}
	now := mongo.Date(time.Now())
	d := userDoc{profile: profile(n.Profile("")), CreatedAt: &now}
	d.Email, d.Username = strings.ToLower(d.Email), strings.ToLower(d.Username)
	if n.Password != "" {
		hash, err := password.Hash(password.Bcrypt, n.Password)
		if err != nil {
			return nil, err // invalid_input for a password over 72 bytes
		}
		d.PasswordHash = hash
	}
	res, err := s.users.InsertOne(ctx, d)
	if mongo.IsDuplicateKey(err) {
		return nil, fmt.Errorf("%v: %w", err, sluice.ErrUserExists)
	}
	if err != nil {
		return nil, err
	}
	id, ok := res.ObjectID()
	if !ok {
		return nil, fmt.Errorf("the new user's _id %s is not an ObjectId", res.InsertedID)
	}
	d.ID = id
	return d.user(), nil
}

// update changes the fields present in up. An email, username or phone
// set to "" is removed, so that the sparse unique indexes skip it.
func (s store) update(ctx context.Context, id string, up sluice.UserUpdates) (*sluice.User, error) {
	oid := mongo.ObjectID(id)
	if !oid.Valid() {
		return nil, sluice.ErrUserNotFound
	}
	set := struct {
		changes
		PasswordHash string         `json:"password_hash,omitempty"`
		UpdatedAt    mongo.DateTime `json:"updated_at"`
	}{changes: changes(up), UpdatedAt: mongo.Date(time.Now())}
	set.Email, set.Username = lower(set.Email), lower(set.Username)
	unset := mongo.M{}
	for name, v := range map[string]**string{"email": &set.Email, "username": &set.Username, "phone": &set.Phone} {
		if *v != nil && **v == "" {
			unset[name] = ""
			*v = nil
		}
	}
	if up.Password != nil {
		if *up.Password == "" {
			return nil, sluice.InvalidInput("the new password must not be empty")
		}
		hash, err := password.Hash(password.Bcrypt, *up.Password)
		if err != nil {
			return nil, err
		}
		set.PasswordHash = hash
	}
	update := mongo.M{"$set": set}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	res, err := s.users.UpdateOne(ctx, mongo.M{"_id": oid}, update)
	if mongo.IsDuplicateKey(err) {
		return nil, fmt.Errorf("%v: %w", err, sluice.ErrUserExists)
	}
	if err != nil {
		return nil, err
	}
	if res.MatchedCount == 0 {
		return nil, sluice.ErrUserNotFound
	}
	u, err := s.get(ctx, sluice.UserQuery{ID: id})
	if err == nil && u == nil { // deleted in between
		err = sluice.ErrUserNotFound
	}
	return u, err
}

func (s store) delete(ctx context.Context, id string) error {
	oid := mongo.ObjectID(id)
	if !oid.Valid() {
		return sluice.ErrUserNotFound
	}
	n, err := s.users.DeleteOne(ctx, mongo.M{"_id": oid})
	if err != nil {
		return err
	}
	if n == 0 {
		return sluice.ErrUserNotFound
	}
	return nil
}

// lower returns a pointer to the lower case of *s, or nil.
func lower(s *string) *string {
	if s == nil {
		return nil
	}
	l := strings.ToLower(*s)
	return &l
}
