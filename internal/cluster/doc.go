// Package cluster lets the nodes sharing a PostgreSQL store hold the
// tenants' rate and concurrency quotas for the whole cluster.
//
// A Membership is one node's place in the cluster: Join writes the
// node's row in the store and keeps it fresh with a heartbeat; a node
// is live while its row was refreshed within the TTL. Every node reads
// the live set at each heartbeat and divides each quota by it (Split):
// the quotient is this node's own share, enforced in memory with no
// store round trip; the remainder, fewer units than there are nodes, is
// a pool shared through the store (AcquireSlot, TakeToken), used only
// when a node's own share is used up. With every node agreeing on the
// live set, the shares and the pool add up to the quota exactly.
//
// A node that leaves (Leave) deletes its row, and its share returns to
// the others at their next heartbeat; a node that dies stops counting
// after the TTL, and its pool leases are taken over then. A node that
// cannot refresh its row for longer than TTL minus one heartbeat
// fences itself (Nodes is 0, Split gives nothing) before the others
// can count it gone. A joining node waits one heartbeat after writing
// its row before it takes a share, so that the others have seen it.
//
// RATIONALE.md ("Cluster quotas") gives the tolerance and why.
package cluster
