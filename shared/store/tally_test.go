package store

import (
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// A tally is raised only below its limit and reset only from the version
// read, so of two admissions that read the same tally one wins.
func TestATallyChangesOnlyFromWhatWasRead(t *testing.T) {
	st, ctx := newTestStore(t)
	set := MembersOf(uniqueID("g"))
	now := time.Now().Truncate(time.Millisecond)
	fresh, err := st.Tally(ctx, set)
	if err != nil || fresh != (Tally{}) {
		t.Fatalf("a set never admitted to: %+v %v", fresh, err)
	}
	step := func(name string, ok bool, err error, want bool) {
		t.Helper()
		if err != nil || ok != want {
			t.Fatalf("%s: %v %v, want %v", name, ok, err, want)
		}
	}
	ok, err := st.RaiseTally(ctx, set, 5, now)
	step("raising a tally that does not exist", ok, err, false)
	ok, err = st.ResetTally(ctx, set, fresh, 3, now)
	step("the first reset", ok, err, true)
	ok, err = st.ResetTally(ctx, set, fresh, 3, now)
	step("a second reset from the same read", ok, err, false)
	read, err := st.Tally(ctx, set)
	if err != nil || read != (Tally{Promised: 3, At: now, Version: 1}) {
		t.Fatalf("after the reset: %+v %v", read, err)
	}
	ok, err = st.RaiseTally(ctx, set, 4, now.Add(time.Second))
	step("a raise to the limit", ok, err, true)
	ok, err = st.RaiseTally(ctx, set, 4, now.Add(time.Second))
	step("a raise past the limit", ok, err, false)
	ok, err = st.ResetTally(ctx, set, read, 1, now)
	step("a reset from a read another admission outdated", ok, err, false)
	if got, _ := st.Tally(ctx, set); got != (Tally{Promised: 4, At: now.Add(time.Second), Version: 2}) {
		t.Errorf("after the raises: %+v", got)
	}
}

// A renewal writes only over a membership current on both sides: never
// over one left or lapsed, which it would re-create without admission.
func TestARenewalNeverRecreatesAMembership(t *testing.T) {
	st, ctx := newTestStore(t)
	now := time.Now()
	m := Membership{GroupID: uniqueID("g"), MemberID: uniqueID("m"), OpenID: uniqueID("o"), JoinedAt: now, ExpiresAt: now.Add(time.Hour)}
	renewed := m
	renewed.ExpiresAt = now.Add(2 * time.Hour)
	if ok, err := st.Renew(ctx, renewed, now); ok || err != nil {
		t.Fatalf("renewing no membership: %v %v", ok, err)
	}
	if err := st.Join(ctx, m); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Renew(ctx, renewed, now); !ok || err != nil {
		t.Fatalf("renewing a current membership: %v %v", ok, err)
	}
	if ms, _ := st.GroupMembers(ctx, m.GroupID, now.Add(90*time.Minute)); len(ms) != 1 {
		t.Errorf("members after the renewal: %+v", ms)
	}
	if ok, err := st.Renew(ctx, renewed, now.Add(3*time.Hour)); ok || err != nil {
		t.Errorf("renewing a lapsed membership: %v %v", ok, err)
	}
	if err := st.Leave(ctx, m.GroupID, m.MemberID); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Renew(ctx, renewed, now); ok || err != nil {
		t.Errorf("renewing a membership left: %v %v", ok, err)
	}
	gs, err1 := st.MemberGroups(ctx, m.MemberID, now)
	ms, err2 := st.GroupMembers(ctx, m.GroupID, now)
	if len(gs)+len(ms) != 0 || err1 != nil || err2 != nil {
		t.Errorf("after renewals of a membership left: groups %+v, members %+v", gs, ms)
	}
}

// A member's tallies live in the member's partition, so the holdings of
// the user name them and an erasure deletes them.
func TestAMembersTalliesAreErasedWithTheUser(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("o")
	mid, err := st.MemberID(ctx, openid, uniqueID("m"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, set := range []Limited{GroupsOf(mid), FriendsOf(mid)} {
		if ok, err := st.ResetTally(ctx, set, Tally{}, 1, now); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	h, err := st.Holdings(ctx, openid)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Limited{GroupsOf(mid), FriendsOf(mid)} {
		if !holds(h, k) {
			t.Errorf("the holdings do not name the tally %s / %s", ddb.Str(k.key["PK"]), ddb.Str(k.key["SK"]))
		}
	}
	if err := st.Erase(ctx, h); err != nil {
		t.Fatal(err)
	}
	for _, set := range []Limited{GroupsOf(mid), FriendsOf(mid)} {
		if got, err := st.Tally(ctx, set); got != (Tally{}) || err != nil {
			t.Errorf("a tally after the erasure: %+v %v", got, err)
		}
	}
}

func holds(h Holdings, set Limited) bool {
	for _, k := range h.keys {
		if ddb.Str(k["PK"]) == ddb.Str(set.key["PK"]) && ddb.Str(k["SK"]) == ddb.Str(set.key["SK"]) {
			return true
		}
	}
	return false
}
