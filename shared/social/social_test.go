package social_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The app the tests run as.
const appID, secret = testenv.AppID, testenv.Secret

// socialWorld is a social test's world: an app of its own (so its groups
// are its own), its clock at noon China time, and named users.
type socialWorld struct {
	t   *testing.T
	e   *testenv.Env
	svc *usecases.Set
	ctx context.Context
}

func newSocialWorld(t *testing.T) *socialWorld {
	e := testenv.New(t, testenv.UniqueID("wxsocial"), secret, testenv.BoardDay())
	return &socialWorld{t: t, e: e, svc: e.Service(t), ctx: context.Background()}
}

// user logs a new user in and returns their openid.
func (w *socialWorld) user(name string) string {
	w.t.Helper()
	openid := testenv.UniqueID(name)
	w.e.Login(w.t, w.svc, openid)
	return openid
}

// walk syncs today's count for openid, stamped now.
func (w *socialWorld) walk(openid string, n int64) {
	w.t.Helper()
	now := w.e.Clock.Now()
	ed, iv := w.e.Sim.WeRunData(openid, testenv.History(now, n), now)
	if _, err := w.svc.Steps.SyncEncrypted(w.ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv}); err != nil {
		w.t.Fatalf("sync: %v", err)
	}
}

// join joins the group named group with the data kind gives.
func (w *socialWorld) join(openid, kind, group string) social.Joined {
	w.t.Helper()
	ed, iv, _ := w.e.Sim.GroupData(openid, kind, group, w.e.Clock.Now())
	j, err := w.svc.Social.JoinGroup(w.ctx, openid, social.GroupJoin{EncryptedData: ed, IV: iv})
	if err != nil {
		w.t.Fatalf("join %s: %v", group, err)
	}
	return j
}

func (w *socialWorld) name(openid, nickname string) string {
	w.t.Helper()
	if _, err := w.svc.Social.SetProfile(w.ctx, openid, social.Profile{Nickname: nickname}); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.svc.Social.GetProfile(w.ctx, openid)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.MemberID
}

// noSecrets fails if an answer about others carries any of the secrets.
func noSecrets(t *testing.T, answer any, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(answer)
	for _, s := range secrets {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("answer %s holds %q", b, s)
		}
	}
}

func ranks(b social.MemberBoard) (out []int) {
	for _, e := range b.Entries {
		out = append(out, e.Rank)
	}
	return out
}

func TestJoiningAGroupWorksWithEveryShapeAndGivesEveryMemberOneGroupID(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob, carol := w.user("alice"), w.user("bob"), w.user("carol")
	first := w.join(alice, wechattest.GroupShareInfo, "family")
	if first.Members != 1 || first.GroupID == "" {
		t.Fatalf("first join: %+v", first)
	}
	if got := w.join(bob, wechattest.GroupEnterInfo, "family"); got.GroupID != first.GroupID || got.Members != 2 {
		t.Errorf("getGroupEnterInfo join: %+v, want group %s with 2 members", got, first.GroupID)
	}
	_, _, cloudID := w.e.Sim.GroupData(carol, wechattest.GroupShareInfo, "family", w.e.Clock.Now())
	got, err := w.svc.Social.JoinGroup(w.ctx, carol, social.GroupJoin{CloudID: cloudID})
	if err != nil || got.GroupID != first.GroupID || got.Members != 3 {
		t.Errorf("cloudID join: %+v %v", got, err)
	}
	if again := w.join(alice, wechattest.GroupShareInfo, "family"); again != (social.Joined{GroupID: first.GroupID, Members: 3}) {
		t.Errorf("joining again: %+v, want the same group, 3 members", again)
	}
	if single := w.join(alice, wechattest.GroupSingleChat, "family"); single.GroupID == first.GroupID {
		t.Error("a one-to-one chat got the group's id")
	}
	if other := w.join(alice, wechattest.GroupShareInfo, "work"); other.GroupID == first.GroupID {
		t.Error("another group got the same id")
	}
	if strings.Contains(first.GroupID, w.e.Sim.OpenGID("family")) {
		t.Error("the groupId carries the openGId")
	}
}

func TestAGroupJoinDecryptsWithAKeyRotatedAway(t *testing.T) {
	w := newSocialWorld(t)
	alice := w.user("alice")
	ed, iv, _ := w.e.Sim.GroupData(alice, wechattest.GroupShareInfo, "g", w.e.Clock.Now())
	w.e.Login(t, w.svc, alice) // wx.login again after getShareInfo
	if _, err := w.svc.Social.JoinGroup(w.ctx, alice, social.GroupJoin{EncryptedData: ed, IV: iv}); err != nil {
		t.Fatalf("join with the previous key: %v", err)
	}
}

func TestAGroupJoinIsRefusedLikeASync(t *testing.T) {
	w := newSocialWorld(t)
	alice := w.user("alice")
	key := w.e.Sim.SessionKey(alice)
	now := w.e.Clock.Now()
	seal := func(plain string) social.GroupJoin {
		iv := "AAAAAAAAAAAAAAAAAAAAAA=="
		ed, err := crypto.Encrypt(key, iv, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		return social.GroupJoin{EncryptedData: ed, IV: iv}
	}
	stamp := `"watermark":{"appid":"` + w.e.AppID + `","timestamp":` + jsonInt(now.Unix()) + `}`
	staleData, staleIV, _ := w.e.Sim.GroupData(alice, wechattest.GroupShareInfo, "g", now.Add(-2*time.Hour))
	cases := []struct {
		name string
		in   social.GroupJoin
		want error
	}{
		{"no group in the data", seal(`{` + stamp + `}`), fault.NoGroupData},
		{"an empty openGId", seal(`{"openGId":"",` + stamp + `}`), fault.NoGroupData},
		{"not JSON, so the key is not proven", seal(`not json`), fault.DecryptFailed},
		{"a cloudID that cannot be WeChat's", social.GroupJoin{CloudID: "no spaces allowed"}, fault.MalformedCloudID},
		{"another app's data", seal(`{"openGId":"x","watermark":{"appid":"wxother","timestamp":` + jsonInt(now.Unix()) + `}}`), crypto.ErrWrongApp},
		{"stale data", social.GroupJoin{EncryptedData: staleData, IV: staleIV}, crypto.ErrStale},
		{"someone else's data", func() social.GroupJoin {
			bob := w.user("bob")
			ed, iv, _ := w.e.Sim.GroupData(bob, wechattest.GroupShareInfo, "g", now)
			return social.GroupJoin{EncryptedData: ed, IV: iv}
		}(), fault.DecryptFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := w.svc.Social.JoinGroup(w.ctx, alice, c.in); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAGroupBoardRanksItsMembersAndHidesItselfFromOthers(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob, carol, dave, eve := w.user("alice"), w.user("bob"), w.user("carol"), w.user("dave"), w.user("eve")
	names := map[string]string{}
	for openid, n := range map[string]int64{alice: 9000, bob: 7000, carol: 7000} {
		w.walk(openid, n)
	}
	var gid string
	for _, u := range []string{alice, bob, carol, dave} {
		names[w.name(u, "n-"+u[:4])] = u
		gid = w.join(u, wechattest.GroupShareInfo, "club").GroupID
	}
	b, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Members != 4 || len(b.Entries) != 4 || b.Date != steps.DateOf(w.e.Clock.Now()) {
		t.Fatalf("board %+v", b)
	}
	if got := ranks(b); got[0] != 1 || got[1] != 2 || got[2] != 2 || got[3] != 4 {
		t.Errorf("ranks %v, want [1 2 2 4]", got)
	}
	wantOrder := []string{alice, "", "", dave}
	for i, e := range b.Entries {
		if wantOrder[i] != "" && names[e.MemberID] != wantOrder[i] {
			t.Errorf("entry %d is %s", i, names[e.MemberID])
		}
		if e.Me != (names[e.MemberID] == bob) {
			t.Errorf("entry %+v: me wrong", e)
		}
	}
	if b.Entries[3].Steps != 0 || b.Me.Steps != 7000 || b.Me.Rank == nil || *b.Me.Rank != 2 {
		t.Errorf("dave %+v, me %+v", b.Entries[3], b.Me)
	}
	noSecrets(t, b, alice, bob, carol, dave, w.e.Sim.OpenGID("club"), w.e.Sim.SessionKey(alice))
	yesterday := steps.DateOf(w.e.Clock.Now().AddDate(0, 0, -1))
	if b, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, yesterday); err != nil || b.Date != yesterday {
		t.Errorf("yesterday's board: %+v %v", b, err)
	}
	for _, date := range []string{"2026-13-01", "yesterday", steps.DateOf(w.e.Clock.Now().AddDate(0, 0, -40)), steps.DateOf(w.e.Clock.Now().AddDate(0, 0, 1))} {
		if _, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, date); !errors.Is(err, fault.BoardDate) {
			t.Errorf("date %q: %v, want ErrBoardDate", date, err)
		}
	}
	for name, groupID := range map[string]string{"a non-member": gid, "an unknown group": "nosuchgroup"} {
		if _, err := w.svc.Social.GroupBoard(w.ctx, eve, groupID, ""); !errors.Is(err, fault.GroupNotFound) {
			t.Errorf("%s: %v, want ErrGroupNotFound", name, err)
		}
		if err := w.svc.Social.LeaveGroup(w.ctx, eve, groupID); !errors.Is(err, fault.GroupNotFound) {
			t.Errorf("%s leaving: %v, want ErrGroupNotFound", name, err)
		}
	}
	list, err := w.svc.Social.Groups(w.ctx, bob, "")
	if err != nil || len(list.Groups) != 1 || list.Groups[0].GroupID != gid || list.Groups[0].Members != 4 ||
		list.Groups[0].Steps != 7000 || *list.Groups[0].Rank != 2 {
		t.Errorf("groups: %+v %v", list, err)
	}
}

func TestLeavingAndLapsingEndAMembership(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob := w.user("alice"), w.user("bob")
	gid := w.join(alice, wechattest.GroupShareInfo, "g").GroupID
	w.join(bob, wechattest.GroupShareInfo, "g")
	if err := w.svc.Social.LeaveGroup(w.ctx, bob, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, ""); !errors.Is(err, fault.GroupNotFound) {
		t.Errorf("board after leaving: %v", err)
	}
	if b, _ := w.svc.Social.GroupBoard(w.ctx, alice, gid, ""); b.Members != 1 {
		t.Errorf("members after bob left: %d", b.Members)
	}
	// Bob joins again; 60 days on alice renews, 31 more days and bob's lapsed.
	w.join(bob, wechattest.GroupShareInfo, "g")
	w.e.Clock.Set(w.e.Clock.Now().AddDate(0, 0, 60))
	w.e.Login(t, w.svc, alice)
	w.join(alice, wechattest.GroupShareInfo, "g")
	w.e.Clock.Set(w.e.Clock.Now().AddDate(0, 0, 31))
	b, err := w.svc.Social.GroupBoard(w.ctx, alice, gid, "")
	if err != nil || b.Members != 1 {
		t.Errorf("after bob's membership lapsed: %+v %v", b, err)
	}
	if _, err := w.svc.Social.GroupBoard(w.ctx, bob, gid, ""); !errors.Is(err, fault.GroupNotFound) {
		t.Errorf("bob after lapsing: %v", err)
	}
	if list, _ := w.svc.Social.Groups(w.ctx, bob, ""); len(list.Groups) != 0 {
		t.Errorf("bob's groups after lapsing: %+v", list)
	}
}

func TestGroupsArePagedMostRecentFirst(t *testing.T) {
	w := newSocialWorld(t)
	alice := w.user("alice")
	var joined []string
	for i := range social.GroupsPage + 3 {
		joined = append(joined, w.join(alice, wechattest.GroupShareInfo, "g"+jsonInt(int64(i))).GroupID)
		w.e.Clock.Set(w.e.Clock.Now().Add(time.Second))
	}
	first, err := w.svc.Social.Groups(w.ctx, alice, "")
	if err != nil || len(first.Groups) != social.GroupsPage || first.Cursor == "" || first.Groups[0].GroupID != joined[len(joined)-1] {
		t.Fatalf("first page: %d groups, cursor %q, %v", len(first.Groups), first.Cursor, err)
	}
	second, err := w.svc.Social.Groups(w.ctx, alice, first.Cursor)
	if err != nil || len(second.Groups) != 3 || second.Cursor != "" || second.Groups[2].GroupID != joined[0] {
		t.Fatalf("second page: %+v %v", second, err)
	}
	if _, err := w.svc.Social.Groups(w.ctx, alice, "not-a-cursor"); !errors.Is(err, fault.InvalidCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestAnInviteMakesFriendsBothWaysUntilItExpires(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob, carol := w.user("alice"), w.user("bob"), w.user("carol")
	aliceID := w.name(alice, "Alice")
	bobID := w.name(bob, "Bob")
	w.walk(alice, 5000)
	w.walk(bob, 8000)
	inv, err := w.svc.Social.Invite(w.ctx, alice)
	if err != nil || inv.ExpiresIn != 7*24*3600 || inv.InviteCode == "" {
		t.Fatalf("invite: %+v %v", inv, err)
	}
	for range 2 { // accepting again answers the same
		got, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode)
		if err != nil || got != (social.FriendAdded{FriendID: aliceID, Nickname: "Alice"}) {
			t.Fatalf("accept: %+v %v", got, err)
		}
	}
	for openid, want := range map[string]string{alice: bobID, bob: aliceID} {
		list, err := w.svc.Social.Friends(w.ctx, openid)
		if err != nil || len(list.Friends) != 1 || list.Friends[0].FriendID != want {
			t.Errorf("friends: %+v %v", list, err)
		}
		noSecrets(t, list, alice, bob)
	}
	b, err := w.svc.Social.FriendsBoard(w.ctx, alice, "")
	if err != nil || b.Members != 2 || len(b.Entries) != 2 || b.Entries[0].MemberID != bobID || *b.Me.Rank != 2 || b.Me.Steps != 5000 {
		t.Fatalf("friends board: %+v %v", b, err)
	}
	noSecrets(t, b, alice, bob, w.e.Sim.SessionKey(bob))
	if _, err := w.svc.Social.AcceptInvite(w.ctx, alice, inv.InviteCode); !errors.Is(err, fault.InvalidInvite) {
		t.Errorf("own invite: %v", err)
	}
	if _, err := w.svc.Social.AcceptInvite(w.ctx, carol, "nosuchcode"); !errors.Is(err, fault.InvalidInvite) {
		t.Errorf("unknown invite: %v", err)
	}
	w.e.Clock.Set(w.e.Clock.Now().Add(social.InviteTTL + time.Minute))
	if _, err := w.svc.Social.AcceptInvite(w.ctx, carol, inv.InviteCode); !errors.Is(err, fault.InvalidInvite) {
		t.Errorf("expired invite: %v", err)
	}
	if err := w.svc.Social.Unfriend(w.ctx, bob, aliceID); err != nil {
		t.Fatal(err)
	}
	if list, _ := w.svc.Social.Friends(w.ctx, alice); len(list.Friends) != 0 {
		t.Errorf("alice's friends after bob unfriended her: %+v", list)
	}
	if err := w.svc.Social.Unfriend(w.ctx, bob, aliceID); !errors.Is(err, fault.FriendNotFound) {
		t.Errorf("unfriending again: %v", err)
	}
}

func TestAProfileIsCheckedBeforeItIsStored(t *testing.T) {
	w := newSocialWorld(t)
	alice := w.user("alice")
	if p, err := w.svc.Social.GetProfile(w.ctx, alice); err != nil || p.Nickname != "" || p.AvatarURL != "" || p.MemberID == "" {
		t.Fatalf("profile before any PUT: %+v %v", p, err)
	}
	cases := []struct {
		in   social.Profile
		want error
		out  social.Profile
	}{
		{social.Profile{Nickname: "  小明 ", AvatarURL: "https://cdn.example.com/a.png"}, nil, social.Profile{Nickname: "小明", AvatarURL: "https://cdn.example.com/a.png"}},
		// What the content check sees and the store keeps is the NFC form.
		{social.Profile{Nickname: "Jose\u0301 👨\u200d👩\u200d👧"}, nil, social.Profile{Nickname: "José 👨\u200d👩\u200d👧"}},
		{social.Profile{Nickname: "a " + wechattest.ReviewWord}, nil, social.Profile{Nickname: "a " + wechattest.ReviewWord}},
		{social.Profile{Nickname: strings.Repeat("步", 32)}, nil, social.Profile{Nickname: strings.Repeat("步", 32)}},
		{social.Profile{Nickname: "x" + wechattest.RiskyWord}, fault.NicknameRejected, social.Profile{}},
		{social.Profile{Nickname: "   "}, fault.InvalidNickname, social.Profile{}},
		{social.Profile{Nickname: strings.Repeat("步", 33)}, fault.InvalidNickname, social.Profile{}},
		{social.Profile{Nickname: "a\x07b"}, fault.InvalidNickname, social.Profile{}},
		{social.Profile{Nickname: "alice\u200b"}, fault.InvalidNickname, social.Profile{}},
		// Refused before the content check, whose word it would split.
		{social.Profile{Nickname: "x" + wechattest.RiskyWord[:3] + "\u200b" + wechattest.RiskyWord[3:]}, fault.InvalidNickname, social.Profile{}},
		{social.Profile{Nickname: "\u3164\u3164"}, fault.InvalidNickname, social.Profile{}},
		{social.Profile{Nickname: "ok", AvatarURL: "https://127.0.0.1/x"}, fault.InvalidAvatar, social.Profile{}},
		{social.Profile{Nickname: "ok", AvatarURL: "https://cdn.example.com:99999/a.png"}, fault.InvalidAvatar, social.Profile{}},
		{social.Profile{Nickname: "ok", AvatarURL: "http://cdn.example.com/a.png"}, fault.InvalidAvatar, social.Profile{}},
		{social.Profile{Nickname: "ok", AvatarURL: "wxfile://tmp/a.png"}, fault.InvalidAvatar, social.Profile{}},
		{social.Profile{Nickname: "ok", AvatarURL: "https://x.example/" + strings.Repeat("a", 1024)}, fault.InvalidAvatar, social.Profile{}},
	}
	for _, c := range cases {
		got, err := w.svc.Social.SetProfile(w.ctx, alice, c.in)
		if !errors.Is(err, c.want) || got != c.out {
			t.Errorf("%q: %+v %v, want %+v %v", c.in.Nickname, got, err, c.out, c.want)
		}
	}
	if p, _ := w.svc.Social.GetProfile(w.ctx, alice); p.Nickname != strings.Repeat("步", 32) {
		t.Errorf("stored %+v, want the last accepted nickname", p)
	}
}

func TestAvatarHostsLimitAvatarsToTheOperatorsStorage(t *testing.T) {
	w := newSocialWorld(t)
	hosts, err := display.NewHosts("thirdwx.qlogo.cn", ".cdn.example.com")
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.e.Config(t)
	cfg.AvatarHosts = hosts
	svc := usecases.New(cfg).Social
	alice := w.user("alice")
	for _, tc := range []struct {
		url  string
		want error
	}{
		{"https://img.cdn.example.com/a.png", nil},
		{"https://thirdwx.qlogo.cn/mmopen/a/132", nil},
		{"https://cdn.example.org/a.png", display.ErrHostNotAllowed},
		{"https://cdn.example.com/a.png", display.ErrHostNotAllowed},
	} {
		_, err := svc.SetProfile(w.ctx, alice, social.Profile{Nickname: "alice", AvatarURL: tc.url})
		if !errors.Is(err, tc.want) || tc.want != nil && !errors.Is(err, fault.InvalidAvatar) {
			t.Errorf("%s: %v, want %v", tc.url, err, tc.want)
		}
	}
}

func TestAnImplausibleDayIsKeptOffTheBoardsButNotTheHistory(t *testing.T) {
	w := newSocialWorld(t)
	// 01:00 in China: 60 minutes x 250 = 15000 steps at most.
	noon := w.e.Clock.Now()
	day := time.Date(noon.Year(), noon.Month(), noon.Day(), 1, 0, 0, 0, steps.CST)
	w.e.Clock.Set(day)
	alice, bob := w.user("alice"), w.user("bob")
	w.walk(alice, 20000)
	w.walk(bob, 14000)
	gid := w.join(alice, wechattest.GroupShareInfo, "g").GroupID
	w.join(bob, wechattest.GroupShareInfo, "g")
	days, err := w.svc.Steps.Days(w.ctx, alice, "", "")
	if err != nil || testenv.Total(days) != 20000 {
		t.Errorf("alice's history: %v %v, want her 20000", days, err)
	}
	b, err := w.svc.Social.GroupBoard(w.ctx, alice, gid, "")
	if err != nil || len(b.Entries) != 1 || b.Members != 2 || b.Me.Rank != nil || b.Me.Steps != 20000 {
		t.Fatalf("board: %+v %v", b, err)
	}
	if rep, err := w.svc.Boards.BuildBoards(w.ctx); err != nil || len(rep.Boards) == 0 {
		t.Fatal(rep, err)
	}
	if sum, err := w.svc.Steps.Summary(w.ctx, alice); err != nil || sum.Rank != nil || sum.Users != 1 {
		t.Errorf("app-wide: %+v %v, want alice unranked and bob alone", sum, err)
	}
	// The same count stamped later in the day is plausible.
	w.e.Clock.Set(day.Add(5 * time.Hour))
	w.walk(alice, 21000)
	if b, _ := w.svc.Social.GroupBoard(w.ctx, alice, gid, ""); len(b.Entries) != 2 || *b.Me.Rank != 1 {
		t.Errorf("board after a plausible sync: %+v", b)
	}
	// Over MAX_BOARD_STEPS is kept off whatever the hour.
	w.e.Clock.Set(day.Add(20 * time.Hour))
	w.walk(bob, 100001)
	if b, _ := w.svc.Social.GroupBoard(w.ctx, alice, gid, ""); len(b.Entries) != 1 {
		t.Errorf("board with bob over the bound: %+v", b)
	}
}

func TestAnExcludedMemberIsKeptOffEveryBoard(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob := w.user("alice"), w.user("bob")
	w.walk(alice, 3000)
	w.walk(bob, 9000)
	gid := w.join(alice, wechattest.GroupShareInfo, "g").GroupID
	w.join(bob, wechattest.GroupShareInfo, "g")
	inv, _ := w.svc.Social.Invite(w.ctx, alice)
	if _, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode); err != nil {
		t.Fatal(err)
	}
	bobID := w.name(bob, "Bob")
	testenv.Exclude(t, bobID)
	svc := w.e.Service(t) // a container that has not cached the exclusions
	for name, read := range map[string]func(string) (social.MemberBoard, error){
		"group":   func(u string) (social.MemberBoard, error) { return svc.Social.GroupBoard(w.ctx, u, gid, "") },
		"friends": func(u string) (social.MemberBoard, error) { return svc.Social.FriendsBoard(w.ctx, u, "") },
	} {
		if b, err := read(alice); err != nil || len(b.Entries) != 1 || b.Members != 2 || *b.Me.Rank != 1 {
			t.Errorf("%s board for alice: %+v %v", name, b, err)
		}
		if b, err := read(bob); err != nil || b.Me.Rank != nil || b.Me.Steps != 9000 {
			t.Errorf("%s board for bob: %+v %v", name, b, err)
		}
	}
	if _, err := svc.Boards.BuildBoards(w.ctx); err != nil {
		t.Fatal(err)
	}
	if sum, err := svc.Steps.Summary(w.ctx, alice); err != nil || sum.Users != 1 || *sum.Rank != 1 {
		t.Errorf("app-wide board: %+v %v, want alice alone", sum, err)
	}
	if sum, err := svc.Steps.Summary(w.ctx, bob); err != nil || sum.Rank != nil || sum.Today != 9000 {
		t.Errorf("bob's summary: %+v %v, want his steps and no rank", sum, err)
	}
}

func TestLimitsRefuseTheSideThatWouldExceedThem(t *testing.T) {
	w := newSocialWorld(t)
	cfg := w.e.Config(t)
	cfg.Limits = social.Limits{GroupMembers: 2, UserGroups: 2, Friends: 1}
	w.svc = usecases.New(cfg)
	alice, bob, carol := w.user("alice"), w.user("bob"), w.user("carol")
	w.join(alice, wechattest.GroupShareInfo, "full")
	w.join(bob, wechattest.GroupShareInfo, "full")
	ed, iv, _ := w.e.Sim.GroupData(carol, wechattest.GroupShareInfo, "full", w.e.Clock.Now())
	if _, err := w.svc.Social.JoinGroup(w.ctx, carol, social.GroupJoin{EncryptedData: ed, IV: iv}); !errors.Is(err, fault.LimitReached) {
		t.Errorf("a third member: %v", err)
	}
	w.join(alice, wechattest.GroupShareInfo, "full") // a member renews, however full
	w.join(alice, wechattest.GroupShareInfo, "second")
	ed, iv, _ = w.e.Sim.GroupData(alice, wechattest.GroupShareInfo, "third", w.e.Clock.Now())
	if _, err := w.svc.Social.JoinGroup(w.ctx, alice, social.GroupJoin{EncryptedData: ed, IV: iv}); !errors.Is(err, fault.LimitReached) {
		t.Errorf("a third group: %v", err)
	}
	inv, _ := w.svc.Social.Invite(w.ctx, alice)
	if _, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode); err != nil {
		t.Errorf("accepting again at the limit: %v", err)
	}
	if _, err := w.svc.Social.AcceptInvite(w.ctx, carol, inv.InviteCode); !errors.Is(err, fault.LimitReached) {
		t.Errorf("alice's second friend: %v", err)
	}
	inv, _ = w.svc.Social.Invite(w.ctx, carol)
	if _, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode); !errors.Is(err, fault.LimitReached) {
		t.Errorf("bob's second friend: %v", err)
	}
}

// The defaults are the contract's numbers: 500 members, 200 groups, 1,000
// friends. The memberships and friendships beyond the first are written
// straight to the store.
func TestTheDefaultLimitsAreTheContracts(t *testing.T) {
	w := newSocialWorld(t)
	alice, bob, carol := w.user("alice"), w.user("bob"), w.user("carol")
	now := w.e.Clock.Now()
	fill := func(n int, add func(i int) error) {
		t.Helper()
		errs := make(chan error, n)
		sem := make(chan struct{}, 16)
		for i := range n {
			sem <- struct{}{}
			go func() { defer func() { <-sem }(); errs <- add(i) }()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	stranger := func() store.Friend {
		return store.Friend{MemberID: testenv.UniqueID("m"), OpenID: testenv.UniqueID("o")}
	}
	join := func(gid string, f store.Friend) error {
		return w.e.Store.Join(w.ctx, store.Membership{GroupID: gid, MemberID: f.MemberID, OpenID: f.OpenID, JoinedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	// A group of 500.
	gid := w.join(alice, wechattest.GroupShareInfo, "big").GroupID
	fill(social.DefaultGroupMembers-1, func(int) error { return join(gid, stranger()) })
	ed, iv, _ := w.e.Sim.GroupData(bob, wechattest.GroupShareInfo, "big", now)
	if _, err := w.svc.Social.JoinGroup(w.ctx, bob, social.GroupJoin{EncryptedData: ed, IV: iv}); !errors.Is(err, fault.LimitReached) {
		t.Errorf("the 501st member: %v", err)
	}
	// A user in 200 groups.
	me := store.Friend{OpenID: carol}
	me.MemberID = w.name(carol, "Carol")
	fill(social.DefaultUserGroups, func(int) error { return join(testenv.UniqueID("g"), me) })
	ed, iv, _ = w.e.Sim.GroupData(carol, wechattest.GroupShareInfo, "one-more", now)
	if _, err := w.svc.Social.JoinGroup(w.ctx, carol, social.GroupJoin{EncryptedData: ed, IV: iv}); !errors.Is(err, fault.LimitReached) {
		t.Errorf("a 201st group: %v", err)
	}
	// A user with 1,000 friends.
	fill(social.DefaultFriends, func(int) error { return w.e.Store.Befriend(w.ctx, me, stranger(), now) })
	inv, err := w.svc.Social.Invite(w.ctx, carol)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Social.AcceptInvite(w.ctx, bob, inv.InviteCode); !errors.Is(err, fault.LimitReached) {
		t.Errorf("a 1,001st friend: %v", err)
	}
}
