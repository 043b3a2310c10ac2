package api

import (
	"sync"
	"time"
)

// ttlCache keeps values for a short time. The API caches what every call
// reads (the tenant of an API key, a connection's configuration) so a
// call costs no store round trip; writes through this node drop the
// entry at once, writes through another node are seen within the TTL.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration // <= 0: no caching
	mu  sync.Mutex
	m   map[K]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

// maxCacheEntries bounds a cache; past it the cache starts over.
const maxCacheEntries = 10000

func newTTLCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, m: map[K]ttlEntry[V]{}}
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || time.Now().After(e.expires) {
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) put(k K, v V) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		clear(c.m)
	}
	c.m[k] = ttlEntry[V]{v: v, expires: time.Now().Add(c.ttl)}
}

func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

func (c *ttlCache[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
