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

// cache holds recently checked sessions by id.
type cache struct {
	mu sync.Mutex
	m  map[string]entry
}

func cacheOf(app core.App) *cache {
	return app.Store().GetOrSet(storeKey, func() any {
		return &cache{m: map[string]entry{}}
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

func (c *cache) put(s Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
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

func (c *cache) touched(id string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		e.touchedAt = now
		c.m[id] = e
	}
}

func (c *cache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (c *cache) forgetUser(userID, keep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.m {
		if e.s.UserID == userID && id != keep {
			delete(c.m, id)
		}
	}
}
