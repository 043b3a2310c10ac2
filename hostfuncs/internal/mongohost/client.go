package mongohost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

const (
	// maxSelectionTimeout bounds how long the driver looks for a server
	// before an operation fails; a call's own deadline may cut it shorter.
	maxSelectionTimeout = 5 * time.Second
	// closeTimeout bounds Disconnect of an evicted client.
	closeTimeout = 5 * time.Second
	defaultPort  = 27017
)

// client is one connection configuration's mongo client.
type client struct {
	mc     *mongo.Client
	db     *mongo.Database
	gate   *gate
	target string // host:port[,host:port...] for the trace
}

func (c *client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return c.mc.Disconnect(ctx)
}

// gate dials through the connection's egress Dialer and remembers the
// last refusal and the last connect error: the driver dials from its
// monitor goroutines, and an operation that finds no server reports only
// a server selection error, so the cause is taken from here.
type gate struct {
	d *egress.Dialer

	mu      sync.Mutex
	denied  *egress.DeniedError
	lastErr error
}

func (g *gate) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := g.d.DialContext(ctx, network, addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		g.denied, g.lastErr = nil, nil
		return c, nil
	}
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		g.denied = denied
	} else {
		g.lastErr = err
	}
	return nil, err
}

func (g *gate) causes() (*egress.DeniedError, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.denied, g.lastErr
}

// uri returns the connection's URI: Target.URI, or one made of the five
// fields.
func uri(t *hostconn.Target) string {
	if t.URI != "" {
		return t.URI
	}
	port := t.Port
	if port == 0 {
		port = defaultPort
	}
	u := url.URL{Scheme: "mongodb", Host: net.JoinHostPort(t.Host, strconv.Itoa(port)), Path: "/" + t.Database}
	if t.Username != "" {
		u.User = url.UserPassword(t.Username, t.Password)
	}
	return u.String()
}

// hostsOf returns the host list of a URI without parsing it fully (no
// SRV lookups, no credentials), for the trace of a call whose client
// could not be made.
func hostsOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

// configError is the error of a connection configured in a way the host
// refuses or cannot use.
func configError(format string, args ...any) error {
	return engine.Errorf(codeDBError, "mongo: connection configuration: "+format, args...)
}

// open makes the client of target t. It fails without dialing when the
// configuration is unusable or the gate refuses every seed host.
func open(ctx context.Context, t *hostconn.Target) (*client, error) {
	raw := uri(t)
	cs, err := connstring.ParseAndValidate(raw)
	if err != nil {
		// The driver's message may quote the URI, password included.
		return nil, configError("the URI does not parse (%s)", redact(err.Error(), raw, t.Password))
	}
	if err := checkConnString(cs); err != nil {
		return nil, err
	}
	dbName := cs.Database
	if dbName == "" {
		dbName = t.Database
	}
	if dbName == "" {
		return nil, configError("no database: name one in the URI path (mongodb://host/DATABASE) or in the database field")
	}
	if len(cs.Hosts) == 0 {
		return nil, egress.Refused("", egress.ReasonNoHost)
	}
	for _, h := range cs.Hosts {
		if strings.HasPrefix(h, "/") || strings.HasSuffix(h, ".sock") {
			// The driver would dial it as a unix socket.
			return nil, egress.Refused(h, egress.ReasonUnixSocket)
		}
	}

	// Refuse up front when the gate would refuse every seed host: the
	// driver would only report a server selection timeout later.
	var firstDenied error
	allowed := 0
	for _, h := range cs.Hosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = h, strconv.Itoa(defaultPort)
		}
		err = t.Dialer.Check(ctx, host, port)
		var denied *egress.DeniedError
		switch {
		case errors.As(err, &denied):
			if firstDenied == nil {
				firstDenied = denied
			}
		default:
			allowed++ // resolution errors show when dialing
		}
	}
	if allowed == 0 && firstDenied != nil {
		return nil, firstDenied
	}

	g := &gate{d: t.Dialer}
	// Half the query timeout at most: a server that cannot be reached is
	// then reported as such, with the last connect error, rather than as
	// the query's timeout.
	sel := maxSelectionTimeout
	if q := t.Limits.QueryTimeout / 2; q > 0 && q < sel {
		sel = q
	}
	opts := options.Client().ApplyURI(raw).
		SetDialer(g).
		SetServerSelectionTimeout(sel).
		SetConnectTimeout(sel).
		SetAppName("sluice")
	if t.MaxOpenConns > 0 {
		opts.SetMaxPoolSize(uint64(t.MaxOpenConns))
	}
	// No OCSP responder requests: they would leave through
	// http.DefaultClient, around the gate.
	if cs.SSLDisableCertificateRevocationCheckSet {
		opts.SetDisableCertificateRevocationCheck(true)
	} else {
		opts.SetDisableOCSPEndpointCheck(true)
	}
	mc, err := mongo.Connect(opts)
	if err != nil {
		return nil, configError("%s", redact(err.Error(), raw, t.Password, cs.Password))
	}
	return &client{
		mc:     mc,
		db:     mc.Database(dbName),
		gate:   g,
		target: strings.Join(cs.Hosts, ","),
	}, nil
}

// checkConnString refuses URI options that make the driver reach beyond
// the gate or read the host's files.
func checkConnString(cs *connstring.ConnString) error {
	switch strings.ToUpper(cs.AuthMechanism) {
	case "", "SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "MONGODB-X509":
	default:
		// MONGODB-AWS and MONGODB-OIDC fetch credentials from cloud
		// metadata endpoints; GSSAPI is not built in.
		return configError("authMechanism %s is not supported (use SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or MONGODB-X509)", cs.AuthMechanism)
	}
	files := map[string]bool{
		"tlsCAFile":             cs.SSLCaFileSet,
		"tlsCertificateKeyFile": cs.SSLClientCertificateKeyFileSet || cs.SSLCertificateFileSet || cs.SSLPrivateKeyFileSet,
	}
	for name, set := range files {
		if set {
			return configError("option %s is not supported: the host's files are not readable by connections", name)
		}
	}
	for key := range cs.UnknownOptions {
		if strings.HasPrefix(strings.ToLower(key), "proxy") {
			return configError("option %s is not supported: connections dial only through the egress gate", key)
		}
	}
	for key := range cs.Options {
		if strings.HasPrefix(strings.ToLower(key), "proxy") {
			return configError("option %s is not supported: connections dial only through the egress gate", key)
		}
	}
	return nil
}

// redact removes the raw URI and the passwords from a driver message.
func redact(msg, raw string, passwords ...string) string {
	if raw != "" {
		msg = strings.ReplaceAll(msg, raw, "<uri>")
	}
	for _, p := range passwords {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
			msg = strings.ReplaceAll(msg, url.QueryEscape(p), "xxxxx")
		}
	}
	return msg
}

// selectionError explains an operation that found no server: the gate's
// refusal when there was one, else the last connect error.
// The code is timeout when ctx, the query's context, ended first.
func (c *client) selectionError(ctx context.Context, op string) error {
	denied, last := c.gate.causes()
	if denied != nil {
		return denied.EngineError()
	}
	code := codeDBError
	if ctx.Err() != nil {
		code = engine.CodeTimeout
	}
	msg := fmt.Sprintf("%s: cannot reach MongoDB at %s", op, c.target)
	if last != nil {
		msg += ": " + last.Error()
	} else {
		msg += ": no suitable server answered in time"
	}
	return &engine.Error{Code: code, Message: msg}
}
