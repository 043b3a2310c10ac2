package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/store"
)

// Store is what a Membership needs of the store: its membership rows and
// shared quota pools. A store.Store is one.
type Store interface {
	store.ClusterStore
}

// Defaults of Config.
const (
	DefaultHeartbeat = time.Second
	DefaultTTL       = 5 * time.Second
	// pruneAfter is how long the row of a node gone stays in the store.
	pruneAfter = time.Hour
)

// Config wires a Membership. Store is required.
type Config struct {
	Store Store
	// NodeID names this node; empty generates one ("nd_" and 16 hex
	// digits). Two running nodes must never share one.
	NodeID string
	// Heartbeat is how often the node refreshes its row and reads the
	// live set; default DefaultHeartbeat.
	Heartbeat time.Duration
	// TTL is how long a node counts as live after its last heartbeat;
	// at least three heartbeats; default DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger receives heartbeat failures; nil discards them.
	Logger *slog.Logger
}

// Membership is this node's place in the cluster. Create it with Join;
// its methods are safe for concurrent use.
type Membership struct {
	cfg Config

	mu     sync.Mutex
	live   []string  // the live set at the last refresh, this node included
	lastOK time.Time // the time written by the last heartbeat that succeeded
	// recent are the sizes the live set had before it changed, each
	// kept for two heartbeats after the change (see Split).
	recent []recentSize

	stop chan struct{}
	done chan struct{}

	nodesDesc *prometheus.Desc
}

type recentSize struct {
	nodes int
	until time.Time
}

// Join writes this node's row, waits one heartbeat so that the other
// nodes see it before it takes a share, reads the live set and keeps
// refreshing both until Leave. ctx bounds Join only.
func Join(ctx context.Context, cfg Config) (*Membership, error) {
	if cfg.Store == nil {
		return nil, errors.New("cluster: Config needs a Store")
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < 3*cfg.Heartbeat {
		return nil, fmt.Errorf("cluster: the TTL %v must be at least three heartbeats of %v", cfg.TTL, cfg.Heartbeat)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NodeID == "" {
		id, err := newID("nd_")
		if err != nil {
			return nil, err
		}
		cfg.NodeID = id
	}
	m := &Membership{
		cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}),
		nodesDesc: prometheus.NewDesc("sluice_cluster_nodes", "Live nodes sharing the store, as this node last saw them (0: this node is fenced off).", nil, nil),
	}
	now := cfg.Now()
	if err := cfg.Store.Heartbeat(ctx, cfg.NodeID, now); err != nil {
		return nil, fmt.Errorf("cluster: join: %w", err)
	}
	select {
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), cfg.Store.LeaveNode(context.WithoutCancel(ctx), cfg.NodeID))
	case <-time.After(cfg.Heartbeat):
	}
	if err := m.refresh(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("cluster: join: %w", err), cfg.Store.LeaveNode(context.WithoutCancel(ctx), cfg.NodeID))
	}
	go m.loop()
	return m, nil
}

// ID is this node's ID.
func (m *Membership) ID() string { return m.cfg.NodeID }

// Nodes returns how many nodes are live, this one included, as of the
// last heartbeat; 0 when this node's own row may have expired (it could
// not refresh it for TTL minus one heartbeat): it is fenced off and
// takes no share until a heartbeat succeeds again.
func (m *Membership) Nodes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fenced() {
		return 0
	}
	return len(m.live)
}

// fenced reports whether this node's row may have expired. m.mu is held.
func (m *Membership) fenced() bool {
	return m.cfg.Now().After(m.lastOK.Add(m.cfg.TTL - m.cfg.Heartbeat))
}

// Split divides a quota of total among the live nodes: the part this
// node enforces alone and the size of the pool shared through the
// store (see the package Split, given the sizes of the live set in the
// last two heartbeats).
func (m *Membership) Split(total int) (local, shared int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fenced() {
		return 0, 0
	}
	now := m.cfg.Now()
	sizes := []int{len(m.live)}
	for _, r := range m.recent {
		if now.Before(r.until) {
			sizes = append(sizes, r.nodes)
		}
	}
	return Split(total, sizes...)
}

// Split divides a quota of total units among nodes: each node enforces
// local = total/nodes units alone, and the shared = total%nodes units
// left are one pool every node draws from through the store; nodes*local
// + shared is total. No nodes (a fenced node) is nothing.
//
// While the live set changes, nodes do not see the change at the same
// heartbeat, and a node using the new size next to one using the old
// could together exceed the quota. So a node that saw the size change
// passes every size of the last two heartbeats: local is total divided
// by the largest, shared the smallest remainder. Any mix of nodes on
// the old size, on the new one and in between then stays within total.
func Split(total int, nodes ...int) (local, shared int) {
	if total <= 0 || len(nodes) == 0 {
		return 0, 0
	}
	most := 0
	for _, n := range nodes {
		if n <= 0 {
			return 0, 0
		}
		most = max(most, n)
	}
	shared = total
	for _, n := range nodes {
		shared = min(shared, total%n)
	}
	return total / most, shared
}

// AcquireSlot takes one slot of the tenant's shared concurrency pool of
// capacity slots for at most hold (the call's longest life). It returns
// the release func when a slot was free.
func (m *Membership) AcquireSlot(ctx context.Context, tenant string, capacity int, hold time.Duration) (release func(), ok bool, err error) {
	id, err := newID("ls_")
	if err != nil {
		return nil, false, err
	}
	now := m.cfg.Now()
	ok, err = m.cfg.Store.AcquireQuotaSlot(ctx, store.SlotLease{
		Tenant: tenant, Capacity: capacity, Node: m.cfg.NodeID, ID: id,
		Now: now, LiveSince: now.Add(-m.cfg.TTL), Expires: now.Add(hold),
	})
	if err != nil || !ok {
		return nil, false, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The call is over whatever its context says; the lease
			// expires on its own if the store cannot be reached.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := m.cfg.Store.ReleaseQuotaSlot(rctx, tenant, id); err != nil {
				m.cfg.Logger.Warn("cluster: release quota slot", "tenant", tenant, "error", err.Error())
			}
		})
	}, true, nil
}

// TakeToken takes one call of the tenant's shared rate pool of
// perMinute calls per minute, or says how long to wait for one.
func (m *Membership) TakeToken(ctx context.Context, tenant string, perMinute int) (ok bool, retryAfter time.Duration, err error) {
	return m.cfg.Store.TakeQuotaToken(ctx, tenant, perMinute, m.cfg.Now())
}

// Leave stops the heartbeat and deletes this node's row: the others
// take its share at their next heartbeat. Call it once no call admitted
// under the node's share is running.
func (m *Membership) Leave(ctx context.Context) error {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
	if err := m.cfg.Store.LeaveNode(ctx, m.cfg.NodeID); err != nil {
		return fmt.Errorf("cluster: leave: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector (sluice_cluster_nodes).
func (m *Membership) Describe(ch chan<- *prometheus.Desc) { ch <- m.nodesDesc }

// Collect implements prometheus.Collector.
func (m *Membership) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(m.nodesDesc, prometheus.GaugeValue, float64(m.Nodes()))
}

func (m *Membership) loop() {
	defer close(m.done)
	tick := time.NewTicker(m.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.TTL)
		if err := m.refresh(ctx); err != nil {
			m.cfg.Logger.Warn("cluster: heartbeat", "node", m.cfg.NodeID, "error", err.Error())
		}
		cancel()
	}
}

// refresh writes the heartbeat, then reads the live set.
func (m *Membership) refresh(ctx context.Context) error {
	now := m.cfg.Now()
	if err := m.cfg.Store.Heartbeat(ctx, m.cfg.NodeID, now); err != nil {
		return err
	}
	live, err := m.cfg.Store.LiveNodes(ctx, now.Add(-m.cfg.TTL))
	if err != nil {
		return err
	}
	if !slices.Contains(live, m.cfg.NodeID) { // a clock behind the others'
		live = append(live, m.cfg.NodeID)
		slices.Sort(live)
	}
	m.mu.Lock()
	if len(m.live) > 0 && len(live) != len(m.live) {
		m.recent = append(m.recent, recentSize{len(m.live), now.Add(2 * m.cfg.Heartbeat)})
	}
	m.recent = slices.DeleteFunc(m.recent, func(r recentSize) bool { return !now.Before(r.until) })
	m.live, m.lastOK = live, now
	m.mu.Unlock()
	if _, err := m.cfg.Store.PruneNodes(ctx, now.Add(-pruneAfter)); err != nil {
		m.cfg.Logger.Warn("cluster: prune nodes", "error", err.Error())
	}
	return nil
}

func newID(prefix string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cluster: id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}
