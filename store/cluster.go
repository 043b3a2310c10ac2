package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ClusterStore is what the nodes sharing a store coordinate through:
// their membership (a row per node, refreshed by heartbeats) and the two
// shared quota pools, concurrency slots and a rate bucket per tenant,
// that hold the part of a quota the nodes do not divide among
// themselves (internal/cluster). Times are the caller's clock, stored in
// microseconds; nodes are expected to keep their clocks within a small
// fraction of the membership TTL of each other.
type ClusterStore interface {
	// Heartbeat records that node is alive at now, adding its row when
	// missing.
	Heartbeat(ctx context.Context, nodeID string, now time.Time) error
	// LiveNodes returns the IDs of the nodes seen at or after since,
	// sorted.
	LiveNodes(ctx context.Context, since time.Time) ([]string, error)
	// LeaveNode removes the node's row and its slot leases: its share
	// is free for the others at their next look.
	LeaveNode(ctx context.Context, nodeID string) error
	// PruneNodes deletes the rows of nodes not seen since before, and
	// reports how many.
	PruneNodes(ctx context.Context, before time.Time) (int64, error)

	// AcquireQuotaSlot takes the lowest free slot below l.Capacity of
	// the tenant's shared concurrency pool for lease l.ID, and reports
	// whether one was free. A slot is free when no lease holds it, or
	// its lease expired, or its holder was not seen since l.LiveSince.
	AcquireQuotaSlot(ctx context.Context, l SlotLease) (bool, error)
	// ReleaseQuotaSlot frees the slot lease leaseID of the tenant holds
	// (nothing when it was taken over).
	ReleaseQuotaSlot(ctx context.Context, tenantID, leaseID string) error
	// TakeQuotaToken takes one call from the tenant's shared rate pool
	// of perMinute calls per minute at now (GCRA, a burst of perMinute),
	// or reports how long to wait for one.
	TakeQuotaToken(ctx context.Context, tenantID string, perMinute int, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// SlotLease asks for one slot of a tenant's shared concurrency pool.
type SlotLease struct {
	Tenant   string
	Capacity int    // the pool has slots 0 to Capacity-1
	Node     string // the node holding the lease
	ID       string // the lease's unique id, to release it
	// Now is the time of the request; leases expired at Now are free.
	Now time.Time
	// LiveSince: a lease whose holder was not seen since is free.
	LiveSince time.Time
	// Expires bounds the lease even if never released (the call's
	// longest life).
	Expires time.Time
}

func (s *sqlStore) Heartbeat(ctx context.Context, nodeID string, now time.Time) error {
	if nodeID == "" {
		return invalid("nodeID", "is empty")
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO cluster_nodes (id, started_at, last_seen) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen`), nodeID, dbTime(now), dbTime(now))
	if err != nil {
		return s.fail("heartbeat", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) LiveNodes(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id FROM cluster_nodes WHERE last_seen >= ? ORDER BY id`), dbTime(since))
	if err != nil {
		return nil, s.fail("live nodes", err, ErrConflict)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.fail("live nodes", err, ErrConflict)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("live nodes", err, ErrConflict)
	}
	return ids, nil
}

func (s *sqlStore) LeaveNode(ctx context.Context, nodeID string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM quota_slots WHERE node_id = ?`), nodeID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM cluster_nodes WHERE id = ?`), nodeID)
		return err
	})
	if err != nil {
		return s.fail("leave node", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) PruneNodes(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM cluster_nodes WHERE last_seen < ?`), dbTime(before))
	if err != nil {
		return 0, s.fail("prune nodes", err, ErrConflict)
	}
	return res.RowsAffected()
}

// acquireSlotSQL inserts the lease into the lowest slot below the
// capacity that no live, unexpired lease holds, taking over a stale
// lease in place; a slot taken by another node between the look and the
// insert is a conflict that changes nothing (no row returned).
const acquireSlotSQL = `WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c WHERE k + 1 < ?)
INSERT INTO quota_slots (tenant_id, slot, node_id, lease_id, expires_at)
SELECT CAST(? AS TEXT), k, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) FROM c
WHERE NOT EXISTS (SELECT 1 FROM quota_slots q WHERE q.tenant_id = ? AND q.slot = c.k AND q.expires_at >= ?
	AND q.node_id IN (SELECT id FROM cluster_nodes WHERE last_seen >= ?))
ORDER BY k LIMIT 1
ON CONFLICT (tenant_id, slot) DO UPDATE SET node_id = excluded.node_id, lease_id = excluded.lease_id, expires_at = excluded.expires_at
WHERE quota_slots.expires_at < ? OR quota_slots.node_id NOT IN (SELECT id FROM cluster_nodes WHERE last_seen >= ?)
RETURNING slot`

// acquireSlotTries bounds the retries of an acquire that lost a race
// for a slot while others were free.
const acquireSlotTries = 3

func (s *sqlStore) AcquireQuotaSlot(ctx context.Context, l SlotLease) (bool, error) {
	if l.Tenant == "" || l.Node == "" || l.ID == "" {
		return false, invalid("lease", "needs a tenant, a node and an id")
	}
	if l.Capacity < 1 {
		return false, nil
	}
	now, live := dbTime(l.Now), dbTime(l.LiveSince)
	for try := 0; try < acquireSlotTries; try++ {
		var slot int
		err := s.db.QueryRowContext(ctx, s.d.q(acquireSlotSQL), l.Capacity,
			l.Tenant, l.Node, l.ID, dbTime(l.Expires),
			l.Tenant, now, live, now, live).Scan(&slot)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, s.fail("acquire quota slot", err, ErrConflict)
		}
		// No row: every slot is held, or another node won the one we
		// chose. Look again only when one is still free.
		var held int
		if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM quota_slots q WHERE q.tenant_id = ? AND q.slot < ? AND q.expires_at >= ?
			AND q.node_id IN (SELECT id FROM cluster_nodes WHERE last_seen >= ?)`), l.Tenant, l.Capacity, now, live).Scan(&held); err != nil {
			return false, s.fail("acquire quota slot", err, ErrConflict)
		}
		if held >= l.Capacity {
			return false, nil
		}
	}
	return false, nil
}

func (s *sqlStore) ReleaseQuotaSlot(ctx context.Context, tenantID, leaseID string) error {
	if _, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM quota_slots WHERE tenant_id = ? AND lease_id = ?`), tenantID, leaseID); err != nil {
		return s.fail("release quota slot", err, ErrConflict)
	}
	return nil
}

// takeTokenSQL is one GCRA step in the store: the theoretical arrival
// time moves one interval past max(tat, now) unless that is more than a
// minute ahead of now.
const takeTokenSQL = `INSERT INTO quota_rate (tenant_id, tat) VALUES (?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET tat = (CASE WHEN quota_rate.tat > ? THEN quota_rate.tat ELSE ? END) + ?
WHERE (CASE WHEN quota_rate.tat > ? THEN quota_rate.tat ELSE ? END) + ? - ? <= ?
RETURNING tat`

func (s *sqlStore) TakeQuotaToken(ctx context.Context, tenantID string, perMinute int, now time.Time) (bool, time.Duration, error) {
	if perMinute < 1 {
		return false, time.Minute, nil
	}
	interval := (time.Minute / time.Duration(perMinute)).Microseconds()
	minute := time.Minute.Microseconds()
	n := dbTime(now)
	var tat int64
	err := s.db.QueryRowContext(ctx, s.d.q(takeTokenSQL), tenantID, n+interval,
		n, n, interval,
		n, n, interval, n, minute).Scan(&tat)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, s.fail("take quota token", err, ErrConflict)
	}
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT tat FROM quota_rate WHERE tenant_id = ?`), tenantID).Scan(&tat); err != nil {
		return false, 0, s.fail("take quota token", err, ErrConflict)
	}
	retry := time.Duration(tat+interval-n-minute) * time.Microsecond
	if retry <= 0 {
		retry = time.Duration(interval) * time.Microsecond
	}
	return false, retry, nil
}
