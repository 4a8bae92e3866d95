package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The DynamoDB cost of the social reads (`make bench`): boards are computed
// at read time, so what they cost is measured on the read, and a sync of a
// member of many groups is measured to cost what any sync costs.

// Sizes of the measured social scenarios.
const (
	benchGroupMembers = social.DefaultGroupMembers // the largest group
	benchSmallGroup   = 20
	benchListGroups   = 10
	benchFriends      = 100
	benchUserGroups   = social.DefaultUserGroups
)

// socialBench writes members straight to the store (unrecorded).
type socialBench struct {
	ctx   context.Context
	setup *store.DynamoStore
	date  string // the boards' day: yesterday, so every count is plausible at any hour
	now   time.Time
}

// member makes a user with a memberId, a profile and steps on date.
func (b *socialBench) member(prefix string, i int) (store.Friend, error) {
	openid := fmt.Sprintf("%s-%d", prefix, i)
	mid, err := b.setup.MemberID(b.ctx, openid, stack.RandomKey()[:22])
	if err != nil {
		return store.Friend{}, err
	}
	if err := b.setup.PutProfile(b.ctx, store.Profile{MemberID: mid, OpenID: openid, Nickname: fmt.Sprintf("walker %d", i),
		AvatarURL: "https://cdn.example.com/avatars/" + mid + ".png"}); err != nil {
		return store.Friend{}, err
	}
	_, err = b.setup.WriteDays(b.ctx, openid, []store.Day{{Date: b.date, Steps: int64(1000 + i*37), SourceTS: b.now.Unix(), UpdatedAt: b.now}})
	return store.Friend{MemberID: mid, OpenID: openid}, err
}

// group makes n members in a group of its own, 16 at a time.
func (b *socialBench) group(n int) (string, []store.Friend, error) {
	gid, prefix := stack.RandomKey()[:22], "bench-g-"+stack.RandomKey()[:8]
	members := make([]store.Friend, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m, err := b.member(prefix, i)
			if err == nil {
				members[i] = m
				err = b.join(gid, m)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return gid, members, <-errs
}

func (b *socialBench) join(gid string, m store.Friend) error {
	return b.setup.Join(b.ctx, store.Membership{GroupID: gid, MemberID: m.MemberID, OpenID: m.OpenID,
		JoinedAt: b.now, ExpiresAt: b.now.AddDate(0, 0, social.DefaultMembershipDays)})
}

// measureSocialCost runs the social scenarios against the table at endpoint.
func measureSocialCost(ctx context.Context, endpoint, table string) ([]SyncCost, error) {
	w, err := newBenchWorld(endpoint, table)
	if err != nil {
		return nil, err
	}
	defer w.sim.Close()
	sim, svc := w.sim, w.svc
	now := time.Now()
	b := &socialBench{ctx: ctx, setup: store.New(w.plain, table), date: steps.DateOf(now.AddDate(0, 0, -1)), now: now}

	big, bigMembers, err := b.group(benchGroupMembers)
	if err != nil {
		return nil, err
	}
	small, smallMembers, err := b.group(benchSmallGroup)
	if err != nil {
		return nil, err
	}
	// A user in benchListGroups groups of benchSmallGroup, and with benchFriends friends.
	lister := smallMembers[0]
	for range benchListGroups - 1 {
		gid, _, err := b.group(benchSmallGroup - 1)
		if err == nil {
			err = b.join(gid, lister)
		}
		if err != nil {
			return nil, err
		}
	}
	for i := range benchFriends {
		f, err := b.member("bench-f-"+stack.RandomKey()[:8], i)
		if err == nil {
			err = b.setup.Befriend(ctx, lister, f, now)
		}
		if err != nil {
			return nil, err
		}
	}
	// A syncing user in benchUserGroups groups: their sync writes no group item.
	syncer := "bench-s-" + stack.RandomKey()[:12]
	sm, err := b.setup.MemberID(ctx, syncer, stack.RandomKey()[:22])
	if err != nil {
		return nil, err
	}
	for range benchUserGroups {
		if err := b.join(stack.RandomKey()[:22], store.Friend{MemberID: sm, OpenID: syncer}); err != nil {
			return nil, err
		}
	}
	list := wechattest.Days(31, now)
	sync := func() (int, error) {
		ed, iv := sim.WeRunData(syncer, list, time.Now())
		res, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: syncer, Account: "a1"}, EncryptedData: ed, IV: iv})
		return res.Changed, err
	}
	if _, err := svc.Sessions.Login(ctx, sim.Login(syncer)); err != nil {
		return nil, err
	}
	if _, err := sync(); err != nil {
		return nil, err
	}
	list[len(list)-1].Step += 500
	// The exclusions are read once a minute per container: read them
	// before measuring, as a warm container has.
	if _, err := svc.Social.GroupBoard(ctx, bigMembers[0].OpenID, big, b.date); err != nil {
		return nil, err
	}
	board := func(caller, gid string, want int) func() (int, error) {
		return func() (int, error) {
			bd, err := svc.Social.GroupBoard(ctx, caller, gid, b.date)
			if err == nil && len(bd.Entries) != want {
				err = fmt.Errorf("%d entries, want %d", len(bd.Entries), want)
			}
			return 0, err
		}
	}
	return w.measure(ctx, []scenario{
		{fmt.Sprintf("group board, %d members", benchGroupMembers), board(bigMembers[0].OpenID, big, benchGroupMembers)},
		{fmt.Sprintf("group board, %d members", benchSmallGroup), board(smallMembers[1].OpenID, small, benchSmallGroup)},
		{fmt.Sprintf("GET /v1/groups, %d groups of %d", benchListGroups, benchSmallGroup), func() (int, error) {
			l, err := svc.Social.Groups(ctx, lister.OpenID, "")
			if err == nil && len(l.Groups) != benchListGroups {
				err = fmt.Errorf("%d groups, want %d", len(l.Groups), benchListGroups)
			}
			return 0, err
		}},
		{fmt.Sprintf("friends board, %d friends", benchFriends), func() (int, error) {
			bd, err := svc.Social.FriendsBoard(ctx, lister.OpenID, b.date)
			if err == nil && len(bd.Entries) != benchFriends+1 {
				err = fmt.Errorf("%d entries, want %d", len(bd.Entries), benchFriends+1)
			}
			return 0, err
		}},
		{fmt.Sprintf("repeat sync of a member of %d groups, only today changed", benchUserGroups), sync},
	})
}

// The capacity model's social assumptions, per daily user per day (the
// README's model has 2 syncs).
const (
	modelSyncs         = 2
	modelGroups        = 5  // groups a user is in
	modelGroupSize     = 20 // app members of a group
	modelFriends       = 30
	modelBoardViews    = 2 // group boards opened
	modelFriendsViews  = 1 // friends boards opened
	modelGroupsLists   = 1 // GET /v1/groups
	modelDailyUsers    = 1_000_000
	rruPrice, wruPrice = 0.125, 0.625 // us-east-1 on-demand, $ per million
)

// socialTargets writes the social rows of the report's targets.
func (r *report) socialTargets(p func(string, ...any)) {
	big := r.social(fmt.Sprintf("group board, %d members", benchGroupMembers))
	syncer, repeat := r.social("repeat sync of a member"), r.cost("repeat")
	p("| %d-member group board: ≤ 2 sequential DynamoDB round trips | %d | %s |", benchGroupMembers, big.Waves, holds(big.Waves <= 2))
	p("| repeat sync of a member of %d groups: no more write units than any repeat sync | %g WCU (%g) | %s |", benchUserGroups, syncer.BilledWCU(), repeat.BilledWCU(), holds(syncer.BilledWCU() <= repeat.BilledWCU()))
}

// writeSocial writes the social section of the report, with the capacity
// model computed from the measured figures.
func (r *report) writeSocial(p func(string, ...any)) {
	big := r.social(fmt.Sprintf("group board, %d members", benchGroupMembers))
	small := r.social(fmt.Sprintf("group board, %d members", benchSmallGroup))
	list := r.social("GET /v1/groups")
	friends := r.social("friends board")
	repeat := r.cost("repeat")
	p("## 6. Social boards, computed at read time")
	p("")
	p("the use cases (`usecases.Set`) over dynalite as in section 4 (`local/bench/socialcost.go`). Members, profiles, days and")
	p("memberships are written straight to the table first; each board is measured once the container")
	p("has its minute's copy of the operator's exclusions. Boards are read at request time: one Query")
	p("of the group's member items, then one round of BatchGetItems (100 keys each, run at once) of the")
	p("members' day items and profiles. A sync writes nothing for groups or friends.")
	p("")
	p("| scenario | requests | round trips | RCU | WCU billed |")
	p("|---|---|---:|---:|---:|")
	for _, c := range r.Social {
		p("| %s | %s | %d | %g | %g |", c.Scenario, countsString(c.Requests, "%d %s"), c.Waves, c.ReportedRCU, c.BilledWCU())
	}
	p("")
	// Linear in the members read: a board costs about 1 RCU a member (two
	// items of 0.5), a group list about 0.5 a distinct member.
	perUser := modelBoardViews*small.ReportedRCU*float64(modelGroupSize)/benchSmallGroup +
		modelGroupsLists*list.ReportedRCU*float64(modelGroups)/benchListGroups +
		modelFriendsViews*friends.ReportedRCU*float64(modelFriends)/benchFriends
	readRRU := perUser * modelDailyUsers
	fanWRU := float64(modelSyncs*(modelGroups+modelFriends)) * modelDailyUsers
	p("**Read time or sync time, at %.0f M daily users.** Assume each user syncs %d times, is in %d groups of", modelDailyUsers/1e6, modelSyncs, modelGroups)
	p("%d app members and has %d friends, and each day opens %d group boards, %d friends board and their", modelGroupSize, modelFriends, modelBoardViews, modelFriendsViews)
	p("group list %d time. Scaled from the measurements above, read-time boards cost %.0f RRU a user a day,", modelGroupsLists, perUser)
	p("**%.0f M RRU a day ($%.0f a month at $%.3f per million)**, and syncs stay at %g WCU and %d round trips", readRRU/1e6, readRRU/1e6*rruPrice*30, rruPrice, repeat.BilledWCU(), repeat.Waves)
	p("whatever the user's groups and friends. Keeping boards up to date at sync time would write the")
	p("day into each of the user's %d group boards and %d friends boards on every sync: %d WRU a user a", modelGroups, modelFriends, modelSyncs*(modelGroups+modelFriends))
	p("day, **%.0f M WRU a day ($%.0f a month at $%.3f per million)**, with cheap reads (a Query of a", fanWRU/1e6, fanWRU/1e6*wruPrice*30, wruPrice)
	p("board partition, under 1 RRU). Read time wins: a write unit costs 5 read units, friends boards are")
	p("each user's own (a fan-out to every friend), and a sync stays bounded — at the limits (%d groups,", social.DefaultUserGroups)
	p("%d friends) sync-time boards would write %d items per sync, where read time writes none. Profile", social.DefaultFriends, social.DefaultUserGroups+social.DefaultFriends)
	p("changes, exclusions, lapsed memberships and the plausibility rules also apply at once, with nothing")
	p("to rewrite. What read time costs is the large group: a %d-member board is %g RCU a view; if every", benchGroupMembers, big.ReportedRCU)
	p("member opened it twice a day that group would cost %.0f k RRU a day, where sync time would write", 2*big.ReportedRCU*benchGroupMembers/1000)
	p("%d k WRU. A per-container cache of a group's board for a minute is the remedy if such groups are common.", modelSyncs*benchGroupMembers/1000)
	p("")
}

func (r *report) social(prefix string) SyncCost {
	for _, c := range r.Social {
		if strings.HasPrefix(c.Scenario, prefix) {
			return c
		}
	}
	return SyncCost{}
}
