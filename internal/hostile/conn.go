package hostile

import (
	"net/url"
	"os"
	"strings"

	"github.com/sluice-dev/sluice/internal/testpg"
)

// Conn is the connection a case's host calls use: the test PostgreSQL,
// or the test MariaDB for cases whose DB is mysql. Every case gets one, as
// password operations are served on any connection.
type Conn struct {
	DBType string
	URI    string
	// Allow is the egress allowlist entry of the server (private
	// addresses must be allowed too).
	Allow string
}

// DBConn returns the case's connection.
func DBConn(c Case) Conn {
	if c.DB == "mysql" {
		uri := os.Getenv("SLUICE_TEST_MYSQL_URI")
		if uri == "" {
			uri = "mysql://root@127.0.0.1:3306/test"
		}
		return Conn{DBType: "mysql", URI: uri, Allow: hostPort(uri, "3306")}
	}
	uri := testpg.DSN()
	return Conn{DBType: "postgres", URI: uri, Allow: hostPort(uri, "5432")}
}

func hostPort(uri, port string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return "127.0.0.1:" + port
	}
	if strings.Contains(u.Host, ":") {
		return u.Host
	}
	return u.Host + ":" + port
}
