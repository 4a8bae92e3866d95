package social_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// gate holds the first n calls until all n have arrived: every racer has
// read before any of them writes, the race's window at its widest.
type gate struct {
	mu      sync.Mutex
	n       int
	arrived int
	open    chan struct{}
}

func newGate(n int) *gate { return &gate{n: n, open: make(chan struct{})} }

func (g *gate) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	if g.arrived == g.n {
		g.mu.Unlock()
		return nil
	}
	g.arrived++
	if g.arrived == g.n {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gate: %d of %d racers arrived: %w", g.arrived, g.n, ctx.Err())
	}
}

// racing is the real store with gates after the reads of the contended
// set (a group's members, a member's groups, or the friends of the member
// friendsOf names), so every racer has counted before any writes; and
// after the tally reads, so every racer has read the tallies before any
// admission raises one. Every racer then races for every place.
type racing struct {
	usecases.Store
	members, groups, friends, tallies *gate
	friendsOf                         string
}

func (r *racing) GroupMembers(ctx context.Context, groupID string, now time.Time) ([]store.Membership, error) {
	v, err := r.Store.GroupMembers(ctx, groupID, now)
	return held(ctx, r.members, v, err)
}

func (r *racing) MemberGroups(ctx context.Context, memberID string, now time.Time) ([]store.Membership, error) {
	v, err := r.Store.MemberGroups(ctx, memberID, now)
	return held(ctx, r.groups, v, err)
}

func (r *racing) Friends(ctx context.Context, memberID string) ([]store.Friend, error) {
	if memberID != r.friendsOf {
		return r.Store.Friends(ctx, memberID)
	}
	v, err := r.Store.Friends(ctx, memberID)
	return held(ctx, r.friends, v, err)
}

func (r *racing) Tally(ctx context.Context, set store.Limited) (store.Tally, error) {
	v, err := r.Store.Tally(ctx, set)
	return held(ctx, r.tallies, v, err)
}

// held is a read's answer, held at g: the racers' reads are all done
// before any of them goes on.
func held[T any](ctx context.Context, g *gate, v T, err error) (T, error) {
	if werr := g.wait(ctx); werr != nil {
		return v, werr
	}
	return v, err
}

// race runs n calls at once and counts their outcomes: admitted, refused
// at the limit; anything else fails the test.
func race(t *testing.T, n int, call func(i int) error) (admitted, refused int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- call(i) }()
	}
	for range n {
		switch err := <-errs; {
		case err == nil:
			admitted++
		case errors.Is(err, fault.LimitReached):
			refused++
		default:
			t.Errorf("a racer failed otherwise: %v", err)
		}
	}
	return admitted, refused
}

// limitedWorld is a social world whose service has small limits and reads
// through r; its users are made and named (so they have memberIds) before
// any race.
func limitedWorld(t *testing.T, limits social.Limits, r *racing) *socialWorld {
	w := newSocialWorld(t)
	w.ctx = testenv.Timeout(t, 30*time.Second)
	cfg := w.e.Config(t)
	cfg.Limits = limits
	r.Store = cfg.Store
	cfg.Store = r
	w.svc = usecases.New(cfg)
	return w
}

func (w *socialWorld) memberID(openid string) string {
	w.t.Helper()
	p, err := w.svc.Social.GetProfile(w.ctx, openid)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.MemberID
}

func (w *socialWorld) users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = w.user(fmt.Sprintf("%s%d", prefix, i))
		w.name(out[i], out[i][:8])
	}
	return out
}

func (w *socialWorld) joinData(openid, group string) social.GroupJoin {
	ed, iv, _ := w.e.Sim.GroupData(openid, wechattest.GroupShareInfo, group, w.e.Clock.Now())
	return social.GroupJoin{EncryptedData: ed, IV: iv}
}

// Racing joins hold both limits exactly.
func TestRacingJoinsHoldTheLimitsExactly(t *testing.T) {
	t.Run("twenty users into one group of at most five", func(t *testing.T) {
		const racers, limit = 20, 5
		r := &racing{members: newGate(racers), tallies: newGate(2 * racers)}
		w := limitedWorld(t, social.Limits{GroupMembers: limit}, r)
		us := w.users("joiner", racers)
		admitted, refused := race(t, racers, func(i int) error {
			_, err := w.svc.Social.JoinGroup(w.ctx, us[i], w.joinData(us[i], "popular"))
			return err
		})
		if admitted != limit || refused != racers-limit {
			t.Errorf("%d joins admitted, %d refused; want %d and %d", admitted, refused, limit, racers-limit)
		}
		members := 0
		for _, u := range us {
			if list, err := w.svc.Social.Groups(w.ctx, u, ""); err == nil && len(list.Groups) == 1 {
				members = list.Groups[0].Members
			}
		}
		if members != limit {
			t.Errorf("the group has %d members, want %d", members, limit)
		}
	})
	t.Run("one user into twelve groups, at most three", func(t *testing.T) {
		const racers, limit = 12, 3
		r := &racing{groups: newGate(racers), tallies: newGate(2 * racers)}
		w := limitedWorld(t, social.Limits{UserGroups: limit}, r)
		alice := w.users("alice", 1)[0]
		admitted, refused := race(t, racers, func(i int) error {
			_, err := w.svc.Social.JoinGroup(w.ctx, alice, w.joinData(alice, fmt.Sprintf("g%d", i)))
			return err
		})
		if admitted != limit || refused != racers-limit {
			t.Errorf("%d joins admitted, %d refused; want %d and %d", admitted, refused, limit, racers-limit)
		}
		if list, err := w.svc.Social.Groups(w.ctx, alice, ""); err != nil || len(list.Groups) != limit {
			t.Errorf("alice is in %d groups (%v), want %d", len(list.Groups), err, limit)
		}
	})
}

// Racing accepts hold the friend limit exactly on either side: many
// accepting one user's invite, and one user accepting many invites.
func TestRacingAcceptsHoldTheFriendLimitExactly(t *testing.T) {
	const racers, limit = 10, 3
	for _, tc := range []struct {
		name string
		// pair is racer i's accepter and inviter, of the one user and the others.
		pair func(one string, others []string, i int) (accepter, inviter string)
	}{
		{"ten accepting one user's invite", func(one string, others []string, i int) (string, string) { return others[i], one }},
		{"one user accepting ten invites", func(one string, others []string, i int) (string, string) { return one, others[i] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &racing{friends: newGate(racers), tallies: newGate(2 * racers)}
			w := limitedWorld(t, social.Limits{Friends: limit}, r)
			one, others := w.users("one", 1)[0], w.users("other", racers)
			r.friendsOf = w.memberID(one)
			codes := map[string]string{}
			for _, u := range append(others, one) {
				inv, err := w.svc.Social.Invite(w.ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				codes[u] = inv.InviteCode
			}
			admitted, refused := race(t, racers, func(i int) error {
				accepter, inviter := tc.pair(one, others, i)
				_, err := w.svc.Social.AcceptInvite(w.ctx, accepter, codes[inviter])
				return err
			})
			if admitted != limit || refused != racers-limit {
				t.Errorf("%d accepts admitted, %d refused; want %d and %d", admitted, refused, limit, racers-limit)
			}
			if list, err := w.svc.Social.Friends(w.ctx, one); err != nil || len(list.Friends) != limit {
				t.Errorf("the one user has %d friends (%v), want %d", len(list.Friends), err, limit)
			}
		})
	}
}

// A place freed in a full set is admitted again once the last admission's
// promise has lapsed (PromiseWindow), not before: until then the promise
// may stand for a write still in flight.
func TestAPlaceFreedIsAdmittedOnceThePromiseLapses(t *testing.T) {
	w := limitedWorld(t, social.Limits{GroupMembers: 2}, &racing{})
	us := w.users("m", 3)
	gid := w.join(us[0], wechattest.GroupShareInfo, "g").GroupID
	w.join(us[1], wechattest.GroupShareInfo, "g")
	if err := w.svc.Social.LeaveGroup(w.ctx, us[1], gid); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Social.JoinGroup(w.ctx, us[2], w.joinData(us[2], "g")); !errors.Is(err, fault.LimitReached) {
		t.Errorf("a join within the window after a leave: %v, want LimitReached", err)
	}
	w.join(us[0], wechattest.GroupShareInfo, "g") // a renewal is never refused
	w.e.Clock.Set(w.e.Clock.Now().Add(social.PromiseWindow + time.Second))
	if j := w.join(us[2], wechattest.GroupShareInfo, "g"); j.Members != 2 {
		t.Errorf("the join after the window: %+v, want 2 members", j)
	}
}

// beforeRenew runs once, before the first renewal reaches the store.
type beforeRenew struct {
	usecases.Store
	once sync.Once
	hook func()
}

func (b *beforeRenew) Renew(ctx context.Context, m store.Membership, now time.Time) (bool, error) {
	b.once.Do(b.hook)
	return b.Store.Renew(ctx, m, now)
}

// A renewal is not admitted, so it must never re-create a membership left
// between its read and its write: here alice leaves a full group of two
// while her join renews, and carol takes her place meanwhile. Alice's join
// then finds the group full.
func TestARenewalRacingALeaveNeverRecreatesTheMembership(t *testing.T) {
	w := newSocialWorld(t)
	cfg := w.e.Config(t)
	cfg.Limits = social.Limits{GroupMembers: 2}
	hooked := &beforeRenew{Store: cfg.Store}
	cfg.Store = hooked
	w.svc = usecases.New(cfg)
	alice, bob, carol := w.user("alice"), w.user("bob"), w.user("carol")
	gid := w.join(alice, wechattest.GroupShareInfo, "g").GroupID
	w.join(bob, wechattest.GroupShareInfo, "g")
	w.e.Clock.Set(w.e.Clock.Now().Add(social.PromiseWindow + time.Second))
	hooked.hook = func() {
		if err := w.svc.Social.LeaveGroup(w.ctx, alice, gid); err != nil {
			t.Error(err)
		}
		if j, err := w.svc.Social.JoinGroup(w.ctx, carol, w.joinData(carol, "g")); err != nil || j.Members != 2 {
			t.Errorf("carol's join in alice's place: %+v %v", j, err)
		}
	}
	if _, err := w.svc.Social.JoinGroup(w.ctx, alice, w.joinData(alice, "g")); !errors.Is(err, fault.LimitReached) {
		t.Errorf("alice's renewal after she left a group filled meanwhile: %v, want LimitReached", err)
	}
	b, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, "")
	if err != nil || b.Members != 2 {
		t.Errorf("the group: %+v %v, want bob and carol", b, err)
	}
}
