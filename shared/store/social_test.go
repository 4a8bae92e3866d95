package store

import (
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// Racing creators of one id all get the one that won, whose profile names
// the user.
func TestRacingCreatorsGetOneMemberIDAndOneGroupID(t *testing.T) {
	st, ctx := newTestStore(t)
	openid, ogid := uniqueID("race"), uniqueID("ogid")
	const racers = 8
	members, groups := make([]string, racers), make([]string, racers)
	errs := make([]error, 2*racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(2)
		go func() { defer wg.Done(); members[i], errs[i] = st.MemberID(ctx, openid, uniqueID("m")) }()
		go func() { defer wg.Done(); groups[i], errs[racers+i] = st.GroupID(ctx, ogid, uniqueID("g")) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	for i := range racers {
		if members[i] != members[0] || groups[i] != groups[0] {
			t.Fatalf("racers got members %v, groups %v: want one of each", members, groups)
		}
	}
	profiles, err := st.t.Query(ctx, "test", "MEMBER#"+members[0], "PROFILE", true)
	if err != nil || len(profiles) != 1 || ddb.Str(profiles[0]["openid"]) != openid {
		t.Errorf("the winner's profile: %v %v", profiles, err)
	}
}

func TestMembershipsLapseAtTheirExpiry(t *testing.T) {
	st, ctx := newTestStore(t)
	now := time.Now()
	gid, mid := uniqueID("g"), uniqueID("m")
	m := Membership{GroupID: gid, MemberID: mid, OpenID: uniqueID("o"), JoinedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.Join(ctx, m); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{now, 1}, {now.Add(59 * time.Minute), 1}, {now.Add(time.Hour), 0}} {
		members, err := st.GroupMembers(ctx, gid, c.at)
		if err != nil || len(members) != c.want {
			t.Errorf("members at +%s: %v %v, want %d", c.at.Sub(now), members, err, c.want)
		}
		groups, err := st.MemberGroups(ctx, mid, c.at)
		if err != nil || len(groups) != c.want {
			t.Errorf("groups at +%s: %v %v, want %d", c.at.Sub(now), groups, err, c.want)
		}
	}
	if err := st.Leave(ctx, gid, mid); err != nil {
		t.Fatal(err)
	}
	if members, _ := st.GroupMembers(ctx, gid, now); len(members) != 0 {
		t.Errorf("members after leaving: %v", members)
	}
}

// A board of 500 members reads 1,000 keys: more than one BatchGetItem, all
// of them answered.
func TestBoardItemsReadsPastOneBatch(t *testing.T) {
	st, ctx := newTestStore(t)
	date := "2099-01-02"
	var members []Friend
	for i := range 150 {
		f := Friend{MemberID: uniqueID("m"), OpenID: uniqueID("o")}
		members = append(members, f)
		if i%2 == 0 {
			mustWrite(t, ctx, st, f.OpenID, Day{Date: date, Steps: int64(i), SourceTS: 7})
		}
	}
	items, err := st.BoardItems(ctx, date, members, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range members {
		it := items[f.MemberID]
		if it.HasDay != (i%2 == 0) || it.Steps != map[bool]int64{true: int64(i)}[i%2 == 0] || (it.HasDay && it.SourceTS != 7) {
			t.Fatalf("member %d: %+v", i, it)
		}
	}
}
