package social

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/opendata"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// GroupJoin is what wx.getShareInfo, wx.getGroupEnterInfo or
// wx.getChatToolInfo returned: encryptedData and iv, or a cloudID.
type GroupJoin struct {
	EncryptedData string
	IV            string
	CloudID       string
}

// Joined is the answer to a join.
type Joined struct {
	GroupID string `json:"groupId"`
	Members int    `json:"members"`
}

// groupPayload is a group's open data in any of its shapes.
type groupPayload struct {
	OpenGID    string           `json:"openGId"`            // getShareInfo
	OpenGIDLow string           `json:"opengid"`            // getGroupEnterInfo, getChatToolInfo
	SingleRoom string           `json:"open_single_roomid"` // getChatToolInfo, one-to-one
	Watermark  crypto.Watermark `json:"watermark"`
}

// identity is the group the payload names, "" when none: a one-to-one
// room is kept apart from groups by its prefix.
func (p groupPayload) identity() string {
	switch {
	case p.OpenGID != "":
		return "g:" + p.OpenGID
	case p.OpenGIDLow != "":
		return "g:" + p.OpenGIDLow
	case p.SingleRoom != "":
		return "s:" + p.SingleRoom
	}
	return ""
}

// parseGroup reads a group's open data; ok is false when it is not JSON.
func parseGroup(plain []byte) (p groupPayload, ok bool) {
	return p, json.Unmarshal(plain, &p) == nil
}

// groupIdentity opens the group data: decrypted with the caller's session
// keys, newest first, or resolved with getopendata; the watermark checked
// as for WeRun data.
func (s *Service) groupIdentity(ctx context.Context, openid string, in GroupJoin) (string, error) {
	var p groupPayload
	if in.CloudID != "" {
		if !wechat.ValidCloudID(in.CloudID) {
			return "", fault.MalformedCloudID
		}
		data, err := s.opener.Resolve(ctx, openid, in.CloudID)
		if err != nil {
			return "", err
		}
		var ok bool
		if p, ok = parseGroup(data); !ok {
			return "", fmt.Errorf("%w: the data is not JSON", fault.NoGroupData)
		}
	} else {
		// Only the keys are needed: read from today on, not the window.
		user, err := s.store.LoadUser(ctx, openid, steps.DateOf(s.now()))
		if err != nil {
			return "", err
		}
		err = s.opener.Decrypt(opendata.SessionKeys(user, ""), in.EncryptedData, in.IV, func(plain []byte) (crypto.Watermark, bool, error) {
			var ok bool
			p, ok = parseGroup(plain)
			return p.Watermark, ok, nil
		})
		if err != nil {
			return "", err
		}
	}
	if err := p.Watermark.Check(s.appID, s.now(), s.maxAge); err != nil {
		return "", err
	}
	id := p.identity()
	if id == "" {
		return "", fault.NoGroupData
	}
	return id, nil
}

// JoinGroup adds the caller to the group the data names, or renews their
// membership. The groupId is random, made by the group's first joiner and
// found by every later one through the openGId. A new membership is
// admitted on both sides' tallies first (limits.go), so racing joins hold
// the group's and the user's limits.
func (s *Service) JoinGroup(ctx context.Context, openid string, in GroupJoin) (_ Joined, err error) {
	defer fault.Classify(&err)
	// The caller's memberId is read while the data is opened, the two
	// sides' memberships together: four round trips for a renewal, two
	// more (the tallies read, then raised) for a new membership.
	var (
		ogid, mid string
		g         errgroup.Group
	)
	g.Go(func() (err error) { ogid, err = s.groupIdentity(ctx, openid, in); return err })
	g.Go(func() (err error) { mid, err = s.memberID(ctx, openid); return err })
	if err := g.Wait(); err != nil {
		return Joined{}, err
	}
	gid, err := s.store.GroupID(ctx, ogid, crypto.NewID())
	if err != nil {
		return Joined{}, err
	}
	for range 2 {
		joined, done, err := s.join(ctx, gid, mid, openid)
		if err != nil || done {
			return joined, err
		}
	}
	return Joined{}, fmt.Errorf("%w: the membership lapsed or was left during the join", fault.Unavailable)
}

// join is one attempt of JoinGroup: a renewal of a membership current on
// both sides, or an admission of each side (counted without the caller)
// and then the two writes. done is false when a renewal found the
// membership no longer current.
func (s *Service) join(ctx context.Context, gid, mid, openid string) (_ Joined, done bool, _ error) {
	t0 := s.now()
	var members, groups []store.Membership
	var g errgroup.Group
	g.Go(func() (err error) { members, err = s.store.GroupMembers(ctx, gid, t0); return err })
	g.Go(func() (err error) { groups, err = s.store.MemberGroups(ctx, mid, t0); return err })
	if err := g.Wait(); err != nil {
		return Joined{}, false, err
	}
	inGroup, inMine := isMember(members, mid), hasGroup(groups, gid)
	now := s.now()
	m := store.Membership{GroupID: gid, MemberID: mid, OpenID: openid, JoinedAt: now, ExpiresAt: now.Add(s.membership())}
	if inGroup && inMine {
		ok, err := s.store.Renew(ctx, m, now)
		return Joined{GroupID: gid, Members: len(members)}, ok, err
	}
	sets := []limited{{
		set: store.MembersOf(gid), limit: s.limits.GroupMembers, what: "the group's members",
		count: func(ctx context.Context, now time.Time) (int, error) {
			ms, err := s.store.GroupMembers(ctx, gid, now)
			return without(len(ms), isMember(ms, mid)), err
		},
	}, {
		set: store.GroupsOf(mid), limit: s.limits.UserGroups, what: "the user's groups",
		count: func(ctx context.Context, now time.Time) (int, error) {
			gs, err := s.store.MemberGroups(ctx, mid, now)
			return without(len(gs), hasGroup(gs, gid)), err
		},
	}}
	counted := []int{without(len(members), inGroup), without(len(groups), inMine)}
	if err := s.admitAll(ctx, t0, sets, counted); err != nil {
		return Joined{}, false, err
	}
	if err := s.store.Join(ctx, m); err != nil {
		return Joined{}, false, err
	}
	return Joined{GroupID: gid, Members: counted[0] + 1}, true, nil
}

func hasGroup(groups []store.Membership, gid string) bool {
	for _, g := range groups {
		if g.GroupID == gid {
			return true
		}
	}
	return false
}

func isMember(members []store.Membership, mid string) bool {
	for _, m := range members {
		if m.MemberID == mid {
			return true
		}
	}
	return false
}

func friendsOf(members []store.Membership) []store.Friend {
	out := make([]store.Friend, len(members))
	for i, m := range members {
		out[i] = store.Friend{MemberID: m.MemberID, OpenID: m.OpenID}
	}
	return out
}

// callerIn finds the caller among a group's members by openid, so a board
// needs no memberId lookup before its Query.
func callerIn(members []store.Membership, openid string) (string, bool) {
	for _, m := range members {
		if m.OpenID == openid {
			return m.MemberID, true
		}
	}
	return "", false
}

// GroupBoard is a group's board of date ("" for today): one Query of the
// members, then one round of BatchGetItems of their day and profile.
// A caller who is not a member gets ErrGroupNotFound, as for an unknown id.
func (s *Service) GroupBoard(ctx context.Context, openid, groupID, date string) (_ MemberBoard, err error) {
	defer fault.Classify(&err)
	if !crypto.ValidID(groupID) {
		return MemberBoard{}, fault.GroupNotFound
	}
	date, err = s.boardDate(date)
	if err != nil {
		return MemberBoard{}, err
	}
	members, err := s.store.GroupMembers(ctx, groupID, s.now())
	if err != nil {
		return MemberBoard{}, err
	}
	me, ok := callerIn(members, openid)
	if !ok {
		return MemberBoard{}, fault.GroupNotFound
	}
	return s.memberBoard(ctx, date, friendsOf(members), me)
}

// LeaveGroup ends the caller's membership.
func (s *Service) LeaveGroup(ctx context.Context, openid, groupID string) (err error) {
	defer fault.Classify(&err)
	if !crypto.ValidID(groupID) {
		return fault.GroupNotFound
	}
	members, err := s.store.GroupMembers(ctx, groupID, s.now())
	if err != nil {
		return err
	}
	me, ok := callerIn(members, openid)
	if !ok {
		return fault.GroupNotFound
	}
	return s.store.Leave(ctx, groupID, me)
}

// GroupList is the answer to GET /v1/groups.
type GroupList struct {
	Groups []GroupPlace `json:"groups"`
	Cursor string       `json:"cursor,omitempty"` // the next page's, when there is one
}

// GroupPlace is one of the caller's groups and their place in it today.
type GroupPlace struct {
	GroupID string `json:"groupId"`
	Members int    `json:"members"`
	Rank    *int   `json:"rank"`
	Steps   int64  `json:"steps"`
}

// Groups lists the caller's groups, most recently joined first, GroupsPage
// at a time after cursor, with the caller's rank and steps today in each:
// the groups' member Queries run at once, then one round of BatchGetItems
// of the distinct members' days.
func (s *Service) Groups(ctx context.Context, openid, cursor string) (_ GroupList, err error) {
	defer fault.Classify(&err)
	var after groupPos
	if cursor != "" {
		if after, err = parseGroupCursor(cursor); err != nil {
			return GroupList{}, err
		}
	}
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return GroupList{}, err
	}
	now := s.now()
	mine, err := s.store.MemberGroups(ctx, mid, now)
	if err != nil {
		return GroupList{}, err
	}
	sort.Slice(mine, func(i, j int) bool {
		if !mine[i].JoinedAt.Equal(mine[j].JoinedAt) {
			return mine[i].JoinedAt.After(mine[j].JoinedAt)
		}
		return mine[i].GroupID < mine[j].GroupID
	})
	start := 0
	if cursor != "" {
		start = sort.Search(len(mine), func(i int) bool { return after.before(mine[i]) })
	}
	page := mine[start:min(start+GroupsPage, len(mine))]
	out := GroupList{Groups: make([]GroupPlace, len(page))}
	if start+len(page) < len(mine) {
		out.Cursor = groupCursor(page[len(page)-1])
	}
	members := make([][]store.Membership, len(page))
	var eg errgroup.Group
	for i, g := range page {
		eg.Go(func() (err error) { members[i], err = s.store.GroupMembers(ctx, g.GroupID, now); return err })
	}
	if err := eg.Wait(); err != nil {
		return GroupList{}, err
	}
	distinct := map[string]store.Friend{}
	for i := range page {
		for _, m := range members[i] {
			distinct[m.MemberID] = store.Friend{MemberID: m.MemberID, OpenID: m.OpenID}
		}
	}
	all := make([]store.Friend, 0, len(distinct))
	for _, f := range distinct {
		all = append(all, f)
	}
	today := steps.DateOf(now)
	items, err := s.store.BoardItems(ctx, today, all, false)
	if err != nil {
		return GroupList{}, err
	}
	excluded, err := s.boards.ExcludedMembers(ctx)
	if err != nil {
		return GroupList{}, err
	}
	for i, g := range page {
		b := s.rank(today, friendsOf(members[i]), items, excluded, mid)
		out.Groups[i] = GroupPlace{GroupID: g.GroupID, Members: b.Members, Rank: b.Me.Rank, Steps: b.Me.Steps}
	}
	return out, nil
}

// groupPos is where a page of groups ended: the last group's join time
// and id; its cursor is the two, base64url.
type groupPos struct {
	joined  int64
	groupID string
}

func (p groupPos) before(m store.Membership) bool {
	j := m.JoinedAt.UnixMilli()
	return j < p.joined || (j == p.joined && m.GroupID > p.groupID)
}

func groupCursor(m store.Membership) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(m.JoinedAt.UnixMilli(), 10) + "." + m.GroupID))
}

// maxGroupCursor bounds a cursor: 20 digits, a dot and a groupId,
// base64url; anything longer is refused before it is decoded.
const maxGroupCursor = (20 + 1 + crypto.IDLen + 2) / 3 * 4

func parseGroupCursor(c string) (groupPos, error) {
	if len(c) > maxGroupCursor {
		return groupPos{}, fault.InvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	ms, gid, ok := strings.Cut(string(raw), ".")
	n, perr := strconv.ParseInt(ms, 10, 64)
	if err != nil || !ok || perr != nil || !crypto.ValidID(gid) {
		return groupPos{}, fault.InvalidCursor
	}
	return groupPos{joined: n, groupID: gid}, nil
}
