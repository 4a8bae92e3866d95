package bench

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
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
	mid, err := b.setup.MemberID(b.ctx, openid, crypto.NewID())
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
	gid, prefix := crypto.NewID(), "bench-g-"+stack.RandomKey()[:8]
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

// seeded is what seed wrote: a group of benchGroupMembers, one of
// benchSmallGroup, a lister in benchListGroups groups of benchSmallGroup
// with benchFriends friends, and a syncer in benchUserGroups groups.
type seeded struct {
	big, small               string
	bigMembers, smallMembers []store.Friend
	lister                   store.Friend
	syncer                   string
}

// seed writes the social scenarios' members, memberships and friendships.
func (b *socialBench) seed() (seeded, error) {
	var s seeded
	var err error
	if s.big, s.bigMembers, err = b.group(benchGroupMembers); err != nil {
		return s, err
	}
	if s.small, s.smallMembers, err = b.group(benchSmallGroup); err != nil {
		return s, err
	}
	s.lister = s.smallMembers[0]
	for range benchListGroups - 1 {
		gid, _, err := b.group(benchSmallGroup - 1)
		if err == nil {
			err = b.join(gid, s.lister)
		}
		if err != nil {
			return s, err
		}
	}
	for i := range benchFriends {
		f, err := b.member("bench-f-"+stack.RandomKey()[:8], i)
		if err == nil {
			err = b.setup.Befriend(b.ctx, s.lister, f, b.now)
		}
		if err != nil {
			return s, err
		}
	}
	// The syncer's sync writes no group item.
	s.syncer = "bench-s-" + stack.RandomKey()[:12]
	sm, err := b.setup.MemberID(b.ctx, s.syncer, crypto.NewID())
	if err != nil {
		return s, err
	}
	for range benchUserGroups {
		if err := b.join(crypto.NewID(), store.Friend{MemberID: sm, OpenID: s.syncer}); err != nil {
			return s, err
		}
	}
	return s, nil
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
	syncer, repeat := r.cost("sync of a member"), r.cost("sync (encryptedData), only today changed")
	p("| sync of a member of %d groups: no more write units than any sync of one day | %g WCU (%g) | %s |", benchUserGroups, syncer.BilledWCU(), repeat.BilledWCU(), holds(syncer.BilledWCU() <= repeat.BilledWCU()))
}

// writeSocial writes the social section of the report, with the capacity
// model computed from the measured figures.
func (r *report) writeSocial(p func(string, ...any)) {
	big := r.cost(fmt.Sprintf("group board, %d members", benchGroupMembers))
	small := r.cost(fmt.Sprintf("group board, %d members", benchSmallGroup))
	list := r.cost("GET /v1/groups")
	friends := r.cost("friends board")
	repeat := r.cost("sync (encryptedData), only today changed")
	p("## 6. Social boards, computed at read time")
	p("")
	p("The social rows of section 4 (`local/bench/socialcost.go` seeds them): members, profiles, days and")
	p("memberships are written straight to the table first; each board is measured once the container")
	p("has its minute's copy of the operator's exclusions. Boards are read at request time: one Query")
	p("of the group's member items (or of the caller's friends, by the memberId their token carries),")
	p("then one round of BatchGetItems (100 keys each, run at once) of the members' day items and")
	p("profiles. A sync writes nothing for groups or friends.")
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
	p("to rewrite. What read time costs is the large group: a %d-member board is %g RCU a view.", benchGroupMembers, big.ReportedRCU)
	p("")
	r.writeLargeBoard(p, big, small)
}

// The large group's model: views of one benchGroupMembers board a day,
// spread over the waking hours, and the warm containers of the social
// function they land on.
const (
	modelLargeViews   = 1000
	modelWakingHours  = 16
	modelContainers   = 20 // warm social containers at the model's peak
	modelCacheTTL     = time.Minute
	modelSnapshotAge  = 15 * time.Minute // like the app-wide board's refresh
	modelSnapshotItem = 110              // bytes per entry: memberId, nickname, avatar link, steps
)

// writeLargeBoard compares a per-container cache of a large board with a
// board snapshot in the table read beside the caller's own row.
func (r *report) writeLargeBoard(p func(string, ...any), big, small Cost) {
	views := float64(modelLargeViews)
	span := float64(modelWakingHours) * 3600
	// A cached copy serves a view when another view of the group reached
	// the same container within the TTL (views Poisson, containers chosen
	// at random).
	hit := 1 - math.Exp(-views/span*modelCacheTTL.Seconds()/modelContainers)
	cacheRRU := views * (1 - hit) * big.ReportedRCU
	// The members' Query is what the board reads besides the day items and
	// profiles (2 items of 0.5 RCU a member).
	query := big.ReportedRCU - float64(benchGroupMembers)
	snapKB := math.Ceil(float64(benchGroupMembers*modelSnapshotItem) / 1024)
	snapRead := math.Ceil(snapKB/4) * 0.5
	perView := query + snapRead + 1 // the caller's own day and profile, live
	rebuilds := math.Min(views, span/modelSnapshotAge.Seconds())
	snapRRU := views*perView + rebuilds*big.ReportedRCU
	snapWRU := rebuilds * snapKB
	dollars := func(rru, wru float64) float64 { return (rru*rruPrice + wru*wruPrice) / 1e6 }
	p("**Boards at any group size: a per-container cache or a board snapshot.** Assume a %d-member", benchGroupMembers)
	p("group's board is viewed %d times a day over %d waking hours, and the social function has %d warm", modelLargeViews, modelWakingHours, modelContainers)
	p("containers a view may land on. A per-container cache of the board for %s serves a view only when", minutes(modelCacheTTL))
	p("another view of that group reached the same container within the minute: a hit rate of")
	p("1 − e^(−%d × %gs / %gs / %d) ≈ **%.0f%%**, so the board still costs %.0f k RRU a day ($%.3f), nearly", modelLargeViews, modelCacheTTL.Seconds(), span, modelContainers, 100*hit, cacheRRU/1000, dollars(cacheRRU, 0))
	p("all of the uncached %.0f k. A snapshot of the ranked board in the table (one item, ~%.0f KB at", views*big.ReportedRCU/1000, snapKB)
	p("%d bytes an entry), rebuilt by the view that finds it older than %s, is read beside the", modelSnapshotItem, minutes(modelSnapshotAge))
	p("members' Query that checks the caller's membership and drops whoever left, was excluded or was")
	p("deleted (their memberships go in the deletion's first pass), with the caller's own day and profile")
	p("read live: %.1f RCU a view and at most %.0f rebuilds a day (%g RCU and %.0f WCU each), %.0f k RRU", perView, rebuilds, big.ReportedRCU, snapKB, snapRRU/1000)
	p("and %.1f k WRU a day ($%.3f), about %.0f× less, in the same 2 round trips; others' counts are then up", snapWRU/1000, dollars(snapRRU, snapWRU), dollars(cacheRRU, 0)/dollars(snapRRU, snapWRU))
	p("to %s old, as on the app-wide board. The snapshot is the better design for large groups; it", minutes(modelSnapshotAge))
	p("is not built yet (docs/DESIGN.md, Capacity model), as a group of %d app users is rare while", benchGroupMembers)
	p("groups of %d are the model's: for those a board is %g RCU a view and neither remedy pays.", benchSmallGroup, small.ReportedRCU)
	p("")
}

func minutes(d time.Duration) string {
	if d == time.Minute {
		return "a minute"
	}
	return fmt.Sprintf("%.0f minutes", d.Minutes())
}
