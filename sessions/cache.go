package sessions

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// cacheTTL is how long a cached session is trusted before the database is read again. Ending a
// session in this process forgets it at once; the TTL bounds how long a session ended by another
// process on the same data (`./app sessions revoke`) keeps working here.
const cacheTTL = 10 * time.Second

// cacheMax bounds the cache; past it, the cache starts over (a live session is then read from
// the database once more).
const cacheMax = 100_000

// storeKey is the app store key of the cache: one per app, so test apps never share one.
const storeKey = "phaseflow.sessions.cache"

type entry struct {
	s         Session
	checkedAt time.Time
	touchedAt time.Time
}

// cache holds recently checked sessions by id, and tombstones of sessions ended in this process:
// a check that read a row just before it was deleted must not put it back.
type cache struct {
	mu         sync.Mutex
	m          map[string]entry
	tombstones map[string]time.Time
}

func cacheOf(app core.App) *cache {
	return app.Store().GetOrSet(storeKey, func() any {
		return &cache{m: map[string]entry{}, tombstones: map[string]time.Time{}}
	}).(*cache)
}

func (c *cache) get(id string, now time.Time) (Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.checkedAt) > cacheTTL || now.Before(e.checkedAt) {
		return Session{}, false
	}
	return e.s, true
}

// put caches s as read from the database at now, unless s ended in this process meanwhile.
func (c *cache) put(s Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.tombstones[s.ID]; ok && now.Sub(at) < cacheTTL {
		return
	}
	if len(c.m) >= cacheMax {
		c.m = map[string]entry{}
	}
	e := c.m[s.ID]
	if e.touchedAt.IsZero() {
		e.touchedAt = s.LastSeen
	}
	e.s, e.checkedAt = s, now
	c.m[s.ID] = e
}

// dueForTouch reports whether the session's last-seen time is older than touchEvery, and if so
// claims the write, so concurrent requests of one session write once.
func (c *cache) dueForTouch(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return true
	}
	if now.Sub(e.touchedAt) < touchEvery {
		return false
	}
	e.touchedAt = now
	c.m[id] = e
	return true
}

// touched records a last-seen write: the cached values change, but not when the database was
// last read, so the entry still expires after cacheTTL.
func (c *cache) touched(s Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[s.ID]; ok {
		e.s, e.touchedAt = s, now
		c.m[s.ID] = e
	}
}

// forget drops id and leaves a tombstone for cacheTTL.
func (c *cache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
	now := time.Now()
	if len(c.tombstones) >= cacheMax {
		for k, at := range c.tombstones {
			if now.Sub(at) >= cacheTTL {
				delete(c.tombstones, k)
			}
		}
	}
	c.tombstones[id] = now
}

func (c *cache) forgetUser(userID, keep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for id, e := range c.m {
		if e.s.UserID == userID && id != keep {
			delete(c.m, id)
			c.tombstones[id] = now
		}
	}
}
