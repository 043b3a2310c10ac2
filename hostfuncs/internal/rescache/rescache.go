// Package rescache keeps pools (database pools, clients) by key, opens
// each once under concurrent first use, and closes them when evicted or
// idle.
package rescache

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"
)

// Cache holds one T per key.
type Cache[T io.Closer] struct {
	mu      sync.Mutex
	entries map[string]*entry[T]
	closed  bool
}

type entry[T io.Closer] struct {
	ready    chan struct{}
	val      T
	err      error
	lastUsed time.Time
}

// Get returns the value for key, calling open once to make it. A caller
// finding another one's open under way waits for it only until its own
// ctx ends (then it returns ctx's error).
func (c *Cache[T]) Get(ctx context.Context, key string, open func() (T, error)) (T, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*entry[T]{}
	}
	if e, ok := c.entries[key]; ok {
		e.lastUsed = time.Now()
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e.val, e.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	e := &entry[T]{ready: make(chan struct{}), lastUsed: time.Now()}
	c.entries[key] = e
	c.mu.Unlock()

	e.val, e.err = open()
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	close(e.ready)
	return e.val, e.err
}

// Evict closes every value whose key starts with prefix.
func (c *Cache[T]) Evict(prefix string) {
	c.remove(func(key string, e *entry[T]) bool { return strings.HasPrefix(key, prefix) })
}

// EvictIdle closes every value unused since cutoff.
func (c *Cache[T]) EvictIdle(cutoff time.Time) {
	c.remove(func(key string, e *entry[T]) bool { return e.lastUsed.Before(cutoff) })
}

// Len is the number of values held.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Close closes every value.
func (c *Cache[T]) Close() error {
	c.remove(func(string, *entry[T]) bool { return true })
	return nil
}

func (c *Cache[T]) remove(match func(string, *entry[T]) bool) {
	var drop []*entry[T]
	c.mu.Lock()
	for key, e := range c.entries {
		select {
		case <-e.ready:
		default:
			continue // still opening; its next use keeps it
		}
		if match(key, e) {
			delete(c.entries, key)
			drop = append(drop, e)
		}
	}
	c.mu.Unlock()
	for _, e := range drop {
		if e.err == nil {
			e.val.Close()
		}
	}
}
