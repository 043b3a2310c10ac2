// Command mongoguest is a realistic MongoDB connector, written with the
// guest SDK's mongo package: users live in the collection "users" with a
// bcrypt passwordHash, an ObjectId _id, a createdAt date and an int64
// loginCount; customData round-trips typed values (an int64 "big", a date
// "born", nested documents and arrays).
package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/createuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/deleteuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/listusers"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/fn/searchuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/updateuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/validatepassword"
	"github.com/sluice-dev/sluice/guest-sdk/mongo"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var users = mongo.Collection("users")

// extra is the typed part of customData.
type extra struct {
	Big    mongo.Int64    `json:"big"`
	Born   mongo.DateTime `json:"born"`
	Nested map[string]any `json:"nested,omitempty"`
	Tags   []string       `json:"tags,omitempty"`
}

// doc is a user document as stored.
type doc struct {
	ID         mongo.ObjectID `json:"_id"`
	Email      string         `json:"email"`
	Username   string         `json:"username,omitempty"`
	Name       string         `json:"name,omitempty"`
	Hash       string         `json:"passwordHash"`
	CreatedAt  mongo.DateTime `json:"createdAt"`
	LoginCount mongo.Int64    `json:"loginCount"`
	Extra      *extra         `json:"extra,omitempty"`
}

func (d doc) user() *sluice.User {
	u := &sluice.User{ID: d.ID.Hex(), Email: d.Email, Username: d.Username, Name: d.Name,
		CustomData: map[string]any{
			"createdAt":  d.CreatedAt.Format(time.RFC3339Nano),
			"loginCount": strconv.FormatInt(int64(d.LoginCount), 10),
		}}
	if d.Extra != nil {
		u.CustomData["big"] = strconv.FormatInt(int64(d.Extra.Big), 10)
		u.CustomData["born"] = d.Extra.Born.Format(time.RFC3339Nano)
		u.CustomData["nested"] = d.Extra.Nested
		u.CustomData["tags"] = d.Extra.Tags
	}
	return u
}

// byQuery is the filter of a user query; nil when it names nobody.
func byQuery(id, email, username string) (mongo.M, error) {
	switch {
	case id != "":
		oid := mongo.ObjectID(id)
		if !oid.Valid() {
			return nil, nil
		}
		return mongo.M{"_id": oid}, nil
	case email != "":
		return mongo.M{"email": email}, nil
	case username != "":
		return mongo.M{"username": username}, nil
	}
	return nil, sluice.InvalidInput("no id, email or username")
}

func find(ctx context.Context, filter mongo.M, opts ...mongo.Option) (*doc, error) {
	if filter == nil {
		return nil, nil
	}
	var d doc
	found, err := users.FindOne(ctx, filter, &d, opts...)
	if err != nil || !found {
		return nil, err
	}
	return &d, nil
}

func verify(hash, password string) (bool, error) {
	var out struct {
		Valid bool `json:"valid"`
	}
	err := sluice.HostCall("password.verify", map[string]string{"hash": hash, "password": password}, &out)
	return out.Valid, err
}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		filter, err := byQuery("", in.Query.Email, in.Query.Username)
		if err != nil {
			return nil, err
		}
		d, err := find(ctx, filter)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, sluice.ErrUserNotFound
		}
		ok, err := verify(d.Hash, in.Password)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sluice.ErrWrongPassword
		}
		if _, err := users.UpdateOne(ctx, mongo.M{"_id": d.ID}, mongo.M{"$inc": mongo.M{"loginCount": mongo.Int64(1)}}); err != nil {
			return nil, err
		}
		d.LoginCount++
		return d.user(), nil
	})

	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		filter, err := byQuery(in.Query.ID, in.Query.Email, in.Query.Username)
		if err != nil {
			return nil, err
		}
		// Relaxed: the untyped customData.nested then holds plain JSON
		// numbers; the typed fields accept either form.
		d, err := find(ctx, filter, mongo.Relaxed())
		if err != nil || d == nil {
			return nil, err
		}
		return d.user(), nil
	})

	createuser.Handle(func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
		if in.User.Email == "" || in.User.Password == "" {
			return nil, sluice.InvalidInput("email and password are required")
		}
		var h struct {
			Hash string `json:"hash"`
		}
		if err := sluice.HostCall("password.hash", map[string]string{"algorithm": "bcrypt", "password": in.User.Password}, &h); err != nil {
			return nil, err
		}
		d := doc{Email: in.User.Email, Username: in.User.Username, Name: in.User.Name, Hash: h.Hash,
			CreatedAt: mongo.Date(time.Now())}
		if cd := in.User.CustomData; cd != nil {
			x := &extra{}
			if s, ok := cd["big"].(string); ok {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, sluice.InvalidInput("customData.big: " + err.Error())
				}
				x.Big = mongo.Int64(n)
			}
			if s, ok := cd["born"].(string); ok {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return nil, sluice.InvalidInput("customData.born: " + err.Error())
				}
				x.Born = mongo.Date(t)
			}
			x.Nested, _ = cd["nested"].(map[string]any)
			if tags, ok := cd["tags"].([]any); ok {
				for _, t := range tags {
					x.Tags = append(x.Tags, fmt.Sprint(t))
				}
			}
			d.Extra = x
		}
		// _id is left to the host: insert a map without it.
		m := mongo.M{"email": d.Email, "passwordHash": d.Hash, "createdAt": d.CreatedAt, "loginCount": d.LoginCount}
		if d.Username != "" {
			m["username"] = d.Username
		}
		if d.Name != "" {
			m["name"] = d.Name
		}
		if d.Extra != nil {
			m["extra"] = d.Extra
		}
		res, err := users.InsertOne(ctx, m)
		if mongo.IsDuplicateKey(err) {
			return nil, fmt.Errorf("%s: %w", in.User.Email, sluice.ErrUserExists)
		}
		if err != nil {
			return nil, err
		}
		id, ok := res.ObjectID()
		if !ok {
			return nil, errors.New("insertedId is not an ObjectId: " + string(res.InsertedID))
		}
		d.ID = id
		return d.user(), nil
	})

	updateuser.Handle(func(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
		filter, _ := byQuery(in.ID, "", "")
		if filter == nil {
			return nil, sluice.ErrUserNotFound
		}
		set := mongo.M{}
		if in.Updates.Name != nil {
			set["name"] = *in.Updates.Name
		}
		if in.Updates.Email != nil {
			set["email"] = *in.Updates.Email
		}
		if in.Updates.Password != nil {
			var h struct {
				Hash string `json:"hash"`
			}
			if err := sluice.HostCall("password.hash", map[string]string{"algorithm": "bcrypt", "password": *in.Updates.Password}, &h); err != nil {
				return nil, err
			}
			set["passwordHash"] = h.Hash
		}
		res, err := users.UpdateOne(ctx, filter, mongo.M{"$set": set})
		if mongo.IsDuplicateKey(err) {
			return nil, sluice.ErrUserExists
		}
		if err != nil {
			return nil, err
		}
		if res.MatchedCount == 0 {
			return nil, sluice.ErrUserNotFound
		}
		d, err := find(ctx, filter)
		if err != nil || d == nil {
			return nil, err
		}
		return d.user(), nil
	})

	deleteuser.Handle(func(ctx context.Context, in sluice.DeleteUserInput) error {
		filter, _ := byQuery(in.ID, "", "")
		if filter == nil {
			return sluice.ErrUserNotFound
		}
		n, err := users.DeleteOne(ctx, filter)
		if err != nil {
			return err
		}
		if n == 0 {
			return sluice.ErrUserNotFound
		}
		return nil
	})

	listusers.Handle(func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
		page, limit := int64(in.Page), int64(in.Limit)
		if page < 1 {
			page = 1
		}
		var docs []doc
		err := users.Find(ctx, nil, &docs, mongo.Sort(mongo.D{{"createdAt", 1}, {"_id", 1}}),
			mongo.Skip((page-1)*limit), mongo.Limit(limit), mongo.Projection(mongo.M{"passwordHash": 0}))
		if err != nil {
			return nil, err
		}
		total, err := users.CountDocuments(ctx, nil)
		if err != nil {
			return nil, err
		}
		return list(total, docs), nil
	})

	searchuser.Handle(func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
		page, limit := int64(in.Page), int64(in.Limit)
		if page < 1 {
			page = 1
		}
		match := mongo.M{"$or": mongo.A{mongo.M{"email": in.Keyword}, mongo.M{"username": in.Keyword}, mongo.M{"name": in.Keyword}}}
		var docs []doc
		err := users.Aggregate(ctx, mongo.A{
			mongo.M{"$match": match},
			mongo.M{"$sort": mongo.D{{"email", 1}}},
			mongo.M{"$skip": (page - 1) * limit},
			mongo.M{"$limit": limit},
		}, &docs)
		if err != nil {
			return nil, err
		}
		total, err := users.CountDocuments(ctx, match)
		if err != nil {
			return nil, err
		}
		return list(total, docs), nil
	})

	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		filter, _ := byQuery(in.ID, "", "")
		d, err := find(ctx, filter)
		if err != nil {
			return false, err
		}
		if d == nil {
			return false, sluice.ErrUserNotFound
		}
		return verify(d.Hash, in.Password)
	})
}

func list(total int64, docs []doc) *sluice.UserList {
	l := &sluice.UserList{TotalCount: int(total)}
	for _, d := range docs {
		l.List = append(l.List, *d.user())
	}
	return l
}

func main() {}
