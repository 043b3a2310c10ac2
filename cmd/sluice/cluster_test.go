package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The membership timing of the cluster test's nodes: a node that dies
// counts for a second.
const (
	testHeartbeat = 200 * time.Millisecond
	testTTL       = time.Second
)

// TestClusterQuotasHoldAcrossThreeProcesses runs three sluice serve
// processes on one PostgreSQL store and drives one tenant's calls
// round-robin at all three: the calls admitted, concurrently and per
// minute, are the tenant's quotas in total (RATIONALE.md, "Cluster
// quotas", gives the tolerance). A node killed gives its share to the
// others after the TTL; a node stopped gives it back at once.
func TestClusterQuotasHoldAcrossThreeProcesses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	storeURL := testpg.Schema(t, "clusterq")
	key := make([]byte, 32)
	rand.Read(key)
	const op = "op-token-cluster"
	common := []string{"serve", "--addr", "127.0.0.1:0", "--store", storeURL, "--warm-javascript=false",
		"--operator-token", op, "--master-key", base64.StdEncoding.EncodeToString(key),
		"--cluster-heartbeat", testHeartbeat.String(), "--cluster-ttl", testTTL.String()}
	var nodes []*process
	for _, name := range []string{"a", "b", "c"} {
		nodes = append(nodes, startProcess(t, bin, append(common, "--data-dir", filepath.Join(t.TempDir(), name))...))
	}
	waitNodes(t, nodes, 3)

	static, err := os.ReadFile(wasmbuild.TestPath(t, "../../examples/static"))
	if err != nil {
		t.Fatal(err)
	}
	webservice, err := os.ReadFile(wasmbuild.TestPath(t, "../../examples/webservice"))
	if err != nil {
		t.Fatal(err)
	}
	backend := newHeldBackend(t)

	// A tenant with quotas and a connection: static answers at once, the
	// webservice one waits for the held backend.
	tenantSeq := 0
	newTenant := func(t *testing.T, quotas map[string]any, held bool) string {
		t.Helper()
		tenantSeq++
		var tn struct{ ID, APIKey string }
		httpCall(t, "POST", nodes[0].url+"/v1/admin/tenants", op, "application/json", fmt.Appendf(nil, `{"name":"t%d"}`, tenantSeq), 201, &tn)
		q, _ := json.Marshal(quotas)
		httpCall(t, "PUT", nodes[0].url+"/v1/admin/tenants/"+tn.ID+"/quotas", op, "application/json", q, 200, nil)
		conn, wasm := `{"mode":"LAZY_MIGRATION","dbType":"postgres","connection":{"host":"db.example.com","port":5432,"username":"app","password":"pw","database":"users"}}`, static
		if held {
			conn = fmt.Sprintf(`{"mode":"LAZY_MIGRATION","dbType":"http","connection":{"uri":%q},"egressAllowlist":[%q]}`, backend.url+"/api/v1/", strings.TrimPrefix(backend.url, "http://"))
			wasm = webservice
		}
		httpCall(t, "PUT", nodes[0].url+"/v1/connections/legacy", tn.APIKey, "application/json", []byte(conn), 201, nil)
		httpCall(t, "POST", nodes[0].url+"/v1/connections/legacy/versions", tn.APIKey, "application/wasm", wasm, 201, nil)
		return tn.APIKey
	}
	loopback := []string{"127.0.0.1/32"}

	// Each node compiles a module on its first call, which takes
	// seconds: a first tenant calls both modules on every node, so that
	// the measured calls run compiled code.
	warm := newTenant(t, map[string]any{"maxConcurrency": 1024, "callsPerMinute": 100000}, false)
	warmHeld := newTenant(t, map[string]any{"maxConcurrency": 1024, "callsPerMinute": 100000, "timeoutMs": 60000,
		"allowPrivateNetworks": true, "privateNetworks": loopback}, true)
	for _, p := range nodes {
		for _, k := range []string{warm, warmHeld} {
			if c, d := debugLogin(p.url, k); c != http.StatusOK {
				t.Fatalf("warming %s: %d %s", p.url, c, d)
			}
		}
	}

	// concurrency sends calls at the nodes round-robin, all at once, and
	// reports how many were admitted and the most the backend held.
	concurrency := func(t *testing.T, serving []*process, limit, calls int) {
		t.Helper()
		apiKey := newTenant(t, map[string]any{"maxConcurrency": limit, "callsPerMinute": 100000, "timeoutMs": 20000,
			"allowPrivateNetworks": true, "privateNetworks": loopback}, true)
		// The upload ran the module once: the first held call would be
		// the probe's, so let the backend serve the probes free first.
		backend.reset()
		defer backend.release() // also when the test fails
		type answer struct {
			code   int
			detail string
		}
		codes := make(chan answer, calls)
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, d := debugLogin(serving[i%len(serving)].url, apiKey)
				codes <- answer{c, d}
			}()
		}
		// Every call is either held by the backend or refused: wait for
		// that, then a little more to see no other call get through.
		refused := 0
		deadline := time.Now().Add(30 * time.Second)
		for backend.holding()+refused < calls {
			select {
			case a := <-codes:
				if a.code != http.StatusTooManyRequests {
					t.Fatalf("a call answered %d while the backend held the others: %s", a.code, a.detail)
				}
				refused++
			case <-time.After(10 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("held %d, refused %d of %d calls", backend.holding(), refused, calls)
			}
		}
		time.Sleep(3 * testHeartbeat)
		held, most := backend.holding(), backend.most()
		backend.release()
		wg.Wait()
		close(codes)
		ok := 0
		for a := range codes {
			switch a.code {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("a call answered %d: %s", a.code, a.detail)
			}
		}
		t.Logf("maxConcurrency %d on %d nodes: %d of %d calls admitted, at most %d at once, %d refused", limit, len(serving), ok, calls, most, refused)
		if held != limit || most != limit || ok != limit {
			t.Fatalf("maxConcurrency %d on %d nodes: held %d (most %d), admitted %d of %d", limit, len(serving), held, most, ok, calls)
		}
	}

	// rate sends calls at the nodes round-robin from a few clients at
	// once and checks the admitted ones against the tolerance: the
	// quota's burst plus its refill while the calls ran, and no fewer
	// than the burst (the load is even, so every node uses its share).
	rate := func(t *testing.T, serving []*process, perMinute, calls int) {
		t.Helper()
		apiKey := newTenant(t, map[string]any{"callsPerMinute": perMinute, "maxConcurrency": 1024}, false)
		var next atomic.Int64
		var mu sync.Mutex
		ok, perNode, failure := 0, make([]int, len(serving)), ""
		start := time.Now()
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= calls {
						return
					}
					c, d := debugCall(serving[i%len(serving)].url, apiKey, getUserCall)
					mu.Lock()
					switch c {
					case http.StatusOK:
						ok++
						perNode[i%len(serving)]++
					case http.StatusTooManyRequests:
					default:
						failure = fmt.Sprintf("call %d answered %d: %s", i, c, d)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if failure != "" {
			t.Fatal(failure)
		}
		// GCRA: at most the burst, then one call per minute/perMinute;
		// the upload took one call of the burst (the lower bound).
		most := perMinute + int(float64(perMinute)*elapsed.Seconds()/60)
		t.Logf("callsPerMinute %d on %d nodes: %d of %d calls admitted in %v (per node %v), bound [%d, %d]",
			perMinute, len(serving), ok, calls, elapsed.Round(time.Millisecond), perNode, perMinute-1, most)
		if ok < perMinute-1 || ok > most {
			t.Fatalf("callsPerMinute %d on %d nodes: %d calls admitted, want %d to %d", perMinute, len(serving), ok, perMinute-1, most)
		}
	}

	t.Run("concurrency below the node count", func(t *testing.T) { concurrency(t, nodes, 2, 9) })
	t.Run("concurrency with a remainder", func(t *testing.T) { concurrency(t, nodes, 5, 15) })
	t.Run("rate", func(t *testing.T) { rate(t, nodes, 60, 150) })
	t.Run("rate with a remainder", func(t *testing.T) { rate(t, nodes, 62, 150) })

	t.Run("a killed node's share returns after the TTL", func(t *testing.T) {
		killed := time.Now()
		nodes[2].cmd.Process.Signal(syscall.SIGKILL)
		<-nodes[2].done
		seen := waitNodes(t, nodes[:2], 2)
		t.Logf("the two nodes left counted the killed node gone %v after the kill (TTL %v, heartbeat %v)",
			seen.Sub(killed).Round(10*time.Millisecond), testTTL, testHeartbeat)
		concurrency(t, nodes[:2], 3, 8)
		rate(t, nodes[:2], 60, 120)
	})
	t.Run("a stopped node gives its share back at once", func(t *testing.T) {
		stopped := time.Now()
		if code := nodes[1].stop(); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		seen := waitNodes(t, nodes[:1], 1)
		t.Logf("the last node counted the stopped node gone %v after SIGTERM", seen.Sub(stopped).Round(10*time.Millisecond))
		concurrency(t, nodes[:1], 2, 5)
		rate(t, nodes[:1], 30, 60)
	})
	if code := nodes[0].stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// Debug calls: a login (held by the held backend; the static
// connector checks a bcrypt hash) and a quick getUser.
const (
	loginCall   = `{"function":"login","input":{"query":{"email":"alice@example.com"},"password":"wonderland"}}`
	getUserCall = `{"function":"getUser","input":{"query":{"email":"alice@example.com"}}}`
)

// debugLogin sends one login through the debug route.
func debugLogin(base, apiKey string) (status int, detail string) {
	return debugCall(base, apiKey, loginCall)
}

// debugCall sends body to the debug route and returns the status: 200
// only when the connector answered, 0 when the request failed (the
// answer is in detail).
func debugCall(base, apiKey, body string) (status int, detail string) {
	req, _ := http.NewRequest("POST", base+"/v1/connections/legacy/debug", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out struct{ OK bool }
	if res.StatusCode == http.StatusOK && (json.Unmarshal(b, &out) != nil || !out.OK) {
		return 0, string(b)
	}
	return res.StatusCode, string(b)
}

// waitNodes waits until every node's /metrics counts n live nodes, and
// returns when they did; the shares are steady a little later.
func waitNodes(t *testing.T, nodes []*process, n int) time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range nodes {
		for clusterNodes(t, p) != n {
			if time.Now().After(deadline) {
				t.Fatalf("%s counts %d nodes, want %d", p.url, clusterNodes(t, p), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	seen := time.Now()
	// A change is in transition for two heartbeats (internal/cluster):
	// the shares are the steady ones after that.
	time.Sleep(3 * testHeartbeat)
	return seen
}

// clusterNodes reads sluice_cluster_nodes from a node's /metrics.
func clusterNodes(t *testing.T, p *process) int {
	res, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "sluice_cluster_nodes "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

// heldBackend is the web service of the webservice connector: its login
// (POST auth) answers only when released, and it counts the logins it
// holds.
type heldBackend struct {
	url      string
	mu       sync.Mutex
	held     int
	peak     int
	gate     chan struct{}
	probing  atomic.Bool
	requests atomic.Int64
}

func newHeldBackend(t *testing.T) *heldBackend {
	b := &heldBackend{gate: make(chan struct{})}
	b.probing.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		if r.Method != "POST" || r.URL.Path != "/api/v1/auth" {
			http.NotFound(w, r)
			return
		}
		if !b.probing.Load() {
			b.mu.Lock()
			b.held++
			b.peak = max(b.peak, b.held)
			gate := b.gate
			b.mu.Unlock()
			select {
			case <-gate:
			case <-r.Context().Done():
			}
			b.mu.Lock()
			b.held--
			b.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"u1","email":"alice@example.com","username":"alice"}`))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { // before Close, which waits for the held logins
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-b.gate:
		default:
			close(b.gate)
		}
	})
	b.url = srv.URL
	return b
}

// reset starts holding logins, with a new gate and peak.
func (b *heldBackend) reset() {
	b.mu.Lock()
	b.gate, b.peak = make(chan struct{}), 0
	b.mu.Unlock()
	b.probing.Store(false)
}

func (b *heldBackend) holding() int { b.mu.Lock(); defer b.mu.Unlock(); return b.held }
func (b *heldBackend) most() int    { b.mu.Lock(); defer b.mu.Unlock(); return b.peak }

// release answers the logins held and the ones to come.
func (b *heldBackend) release() {
	b.probing.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.gate:
	default:
		close(b.gate)
	}
}
