package challenge

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// Defaults of a big event's standings kept per container (Config).
const (
	DefaultCacheTTL    = 5 * time.Second
	DefaultCacheFrom   = 1000
	DefaultCacheEvents = 8
)

// standingsCache keeps the participants of the big events a container has
// seen. At a kickoff thousands open one event's board within a minute, and
// a strongly consistent Query of all of them each time would ask one
// partition for far more than its 3,000 read units a second; the totals
// change only at syncs, so a few seconds' delay is invisible, and each
// view reads the caller's own item fresh beside it.
//
// An entry's participants serve for ttl after their read began. After
// that the entry only says that the event is big: its size is known only
// from the event item, read in the same round trip as the participants, so
// an event the container has not seen is read strongly consistent, as a
// small one is, and every later fill eventually consistent.
type standingsCache struct {
	ttl       time.Duration
	from, max int

	mu      sync.Mutex
	byEvent map[string]cachedStandings
	fills   singleflight.Group
}

type cachedStandings struct {
	// all is shared by every view that reads it: never modified.
	all  []eventstore.Participant
	read time.Time
}

func newStandingsCache(cfg Config) *standingsCache {
	c := &standingsCache{ttl: cfg.CacheTTL, from: cfg.CacheFrom, max: cfg.CacheEvents, byEvent: map[string]cachedStandings{}}
	if c.ttl <= 0 {
		c.ttl = DefaultCacheTTL
	}
	if c.from <= 0 {
		c.from = DefaultCacheFrom
	}
	if c.max <= 0 {
		c.max = DefaultCacheEvents
	}
	return c
}

// big reports whether an event of n participants is read through the cache.
func (c *standingsCache) big(n int) bool { return n >= c.from }

// lookup is the event's cached participants when they are at most ttl old
// at now, and whether the event is known to be big.
func (c *standingsCache) lookup(eventID string, now time.Time) (all []eventstore.Participant, fresh, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, known := c.byEvent[eventID]
	if known && now.Sub(e.read) < c.ttl {
		return e.all, true, true
	}
	return nil, false, known
}

// put keeps all as the event's participants read at read, evicting the
// entry read longest ago when the cache is full.
func (c *standingsCache) put(eventID string, all []eventstore.Participant, read time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byEvent[eventID]; !ok && len(c.byEvent) >= c.max {
		oldest := ""
		for id, e := range c.byEvent {
			if oldest == "" || e.read.Before(c.byEvent[oldest].read) {
				oldest = id
			}
		}
		delete(c.byEvent, oldest)
	}
	c.byEvent[eventID] = cachedStandings{all: all, read: read}
}

// drop forgets the event: cancelled, or small again.
func (c *standingsCache) drop(eventID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byEvent, eventID)
}

// fill reads the event's participants with read and keeps them; views that
// miss at the same time share one read (it runs on the first one's ctx).
func (c *standingsCache) fill(ctx context.Context, eventID string, now func() time.Time,
	read func(context.Context, string) ([]eventstore.Participant, error)) ([]eventstore.Participant, error) {
	v, err, _ := c.fills.Do(eventID, func() (any, error) {
		at := now()
		// A fill that ended just before this one began serves it.
		if all, fresh, _ := c.lookup(eventID, at); fresh {
			return all, nil
		}
		all, err := read(ctx, eventID)
		if err != nil {
			return nil, err
		}
		c.put(eventID, all, at)
		return all, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]eventstore.Participant), nil
}

// withOwn is all with the caller's own item as just read in place of the
// cached one, so that a user sees their own join, sync and leave at once.
func withOwn(all []eventstore.Participant, memberID string, own eventstore.Participant, found bool) []eventstore.Participant {
	out := make([]eventstore.Participant, 0, len(all)+1)
	for _, p := range all {
		if p.MemberID != memberID {
			out = append(out, p)
		}
	}
	if found {
		out = append(out, own)
	}
	return out
}
