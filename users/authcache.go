package users

import (
	"net/http"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// ProfilePath is the one route whose reads authenticate from the account cache (LoadCachedAuth):
// the profile every client reads on every start and refresh.
const ProfilePath = "/api/user"

// authCacheTTL is how long a cached account is trusted for GET /api/user before the database is
// read again. Every change of an account in this process forgets it at once; the TTL bounds how
// long a token whose key another process rotated (`./app` commands on the same data) keeps
// reading the profile here — the same bound as for a session ended there.
const authCacheTTL = 10 * time.Second

// authCacheMax bounds the cache; past it, the cache starts over.
const authCacheMax = 100_000

const authCacheKey = "phaseflow.users.authcache"

type cachedAccount struct {
	record *core.Record
	readAt time.Time
}

// authCache holds accounts read for GET /api/user, with the time of the last change of each
// account in this process (and of the collection): a read that began before a change must not
// put the old copy back.
type authCache struct {
	mu        sync.Mutex
	m         map[string]cachedAccount
	changedAt map[string]time.Time
	clearedAt time.Time
}

func authCacheOf(app core.App) *authCache {
	return app.Store().GetOrSet(authCacheKey, func() any {
		return &authCache{m: map[string]cachedAccount{}, changedAt: map[string]time.Time{}}
	}).(*authCache)
}

func (c *authCache) get(id string, now time.Time) (*core.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[id]
	if !ok || now.Sub(a.readAt) > authCacheTTL || now.Before(a.readAt) {
		return nil, false
	}
	return a.record, true
}

// put caches r as read from the database from readAt on, unless it changed since.
func (c *authCache) put(r *core.Record, readAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !readAt.After(c.clearedAt) {
		return
	}
	if at, ok := c.changedAt[r.Id]; ok && !readAt.After(at) {
		return
	}
	if len(c.m) >= authCacheMax {
		c.m = map[string]cachedAccount{}
	}
	c.m[r.Id] = cachedAccount{record: r, readAt: readAt}
}

func (c *authCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
	now := time.Now()
	if len(c.changedAt) >= authCacheMax { // a read older than the TTL is long done
		for k, at := range c.changedAt {
			if now.Sub(at) >= authCacheTTL {
				delete(c.changedAt, k)
			}
		}
	}
	c.changedAt[id] = now
}

func (c *authCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = map[string]cachedAccount{}
	c.clearedAt = time.Now()
}

// LoadCachedAuth authenticates GET /api/user from a recently read copy of the account instead of
// PocketBase's read on every request (its loadAuthToken, which runs next and does nothing when
// e.Auth is set). It verifies the token exactly as PocketBase does for an auth token — signature
// with the account's token key and the collection's secret, expiry, type, collection — and hands
// the request its own copy of the record. A token that does not verify against the cached copy is
// left to PocketBase, which reads the database; so the cache can only shorten the time to accept
// a token, never turn one away. Other methods and paths are untouched, so a write never starts
// from a cached copy. It is a global middleware just before PocketBase's loadAuthToken.
func LoadCachedAuth(e *core.RequestEvent) error {
	if e.Auth != nil || e.Request.Method != http.MethodGet || e.Request.URL.Path != ProfilePath {
		return e.Next()
	}
	token := RequestToken(e)
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return e.Next()
	}
	id, _ := claims[core.TokenClaimId].(string)
	collectionID, _ := claims[core.TokenClaimCollectionId].(string)
	if tokenType, _ := claims[core.TokenClaimType].(string); id == "" || tokenType != core.TokenTypeAuth {
		return e.Next()
	}
	cache := authCacheOf(e.App)
	record, ok := cache.get(id, time.Now())
	if !ok {
		readAt := time.Now()
		record, err = e.App.FindRecordById(Collection, id)
		if err != nil {
			return e.Next() // not an account (a superuser, a deleted account): PocketBase decides
		}
		cache.put(record, readAt)
	}
	col := record.Collection()
	if col.Id != collectionID || !col.IsAuth() {
		return e.Next()
	}
	if _, err := security.ParseJWT(token, record.TokenKey()+col.AuthToken.Secret); err != nil {
		return e.Next()
	}
	e.Auth = record.Clone()
	return e.Next()
}

// ForgetCachedAuth drops the account of e from the cache. It is an OnRecordAfterUpdateSuccess
// and OnRecordAfterDeleteSuccess handler for users.
func ForgetCachedAuth(e *core.RecordEvent) error {
	authCacheOf(e.App).forget(e.Record.Id)
	return e.Next()
}

// ForgetAllCachedAuth empties the cache when the users collection changes (its token secret may
// have been rotated, which ends every token). It is an OnCollectionAfterUpdateSuccess handler.
func ForgetAllCachedAuth(e *core.CollectionEvent) error {
	if e.Collection.Name == Collection {
		authCacheOf(e.App).forgetAll()
	}
	return e.Next()
}
