package social

import (
	"context"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
)

// InviteCode is the answer to POST /v1/friends/invites.
type InviteCode struct {
	InviteCode string `json:"inviteCode"`
	ExpiresIn  int    `json:"expiresIn"` // seconds
}

// FriendAdded is the answer to accepting an invite.
type FriendAdded struct {
	FriendID string `json:"friendId"`
	Nickname string `json:"nickname"`
}

// FriendList is the answer to GET /v1/friends.
type FriendList struct {
	Friends []FriendView `json:"friends"`
}

// FriendView is one friend, by memberId and profile.
type FriendView struct {
	FriendID  string `json:"friendId"`
	Nickname  string `json:"nickname"`
	AvatarURL string `json:"avatarUrl"`
}

// Invite makes an invite code, valid InviteTTL for anyone who opens it.
func (s *Service) Invite(ctx context.Context, openid string) (_ InviteCode, err error) {
	defer fault.Classify(&err)
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return InviteCode{}, err
	}
	code := crypto.NewID()
	inv := store.Invite{Code: code, MemberID: mid, OpenID: openid, ExpiresAt: s.now().Add(InviteTTL)}
	if err := s.store.PutInvite(ctx, inv); err != nil {
		return InviteCode{}, err
	}
	return InviteCode{InviteCode: code, ExpiresIn: int(InviteTTL / time.Second)}, nil
}

// AcceptInvite makes the caller and the inviter friends both ways;
// accepting again answers the same.
func (s *Service) AcceptInvite(ctx context.Context, openid, code string) (_ FriendAdded, err error) {
	defer fault.Classify(&err)
	if !crypto.ValidID(code) {
		return FriendAdded{}, fault.InvalidInvite
	}
	inv, found, err := s.store.Invite(ctx, code)
	if err != nil {
		return FriendAdded{}, err
	}
	if !found || !s.now().Before(inv.ExpiresAt) || inv.OpenID == openid {
		return FriendAdded{}, fault.InvalidInvite
	}
	t0 := s.now()
	mid, mine, err := s.myFriends(ctx, openid)
	if err != nil {
		return FriendAdded{}, err
	}
	if !hasFriend(mine, inv.MemberID) {
		theirs, err := s.store.Friends(ctx, inv.MemberID)
		if err != nil {
			return FriendAdded{}, err
		}
		// Both sides are admitted on their tallies (limits.go), each
		// counted without the other, whom the write re-creates.
		sets := []limited{s.friendsOf(mid, inv.MemberID, "the caller's friends"), s.friendsOf(inv.MemberID, mid, "the inviter's friends")}
		counted := []int{len(mine), without(len(theirs), hasFriend(theirs, mid))}
		if err := s.admitAll(ctx, t0, sets, counted); err != nil {
			return FriendAdded{}, err
		}
		me := store.Friend{MemberID: mid, OpenID: openid}
		if err := s.store.Befriend(ctx, me, store.Friend{MemberID: inv.MemberID, OpenID: inv.OpenID}, s.now()); err != nil {
			return FriendAdded{}, err
		}
	}
	p, _, err := s.store.Profile(ctx, inv.MemberID)
	return FriendAdded{FriendID: inv.MemberID, Nickname: p.Nickname}, err
}

// friendsOf is the limited set of member's friends, counted without other.
func (s *Service) friendsOf(member, other, what string) limited {
	return limited{set: store.FriendsOf(member), limit: s.limits.Friends, what: what,
		count: func(ctx context.Context, _ time.Time) (int, error) {
			fs, err := s.store.Friends(ctx, member)
			return without(len(fs), hasFriend(fs, other)), err
		}}
}

// myFriends is the caller's memberId and friends.
func (s *Service) myFriends(ctx context.Context, openid string) (string, []store.Friend, error) {
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return "", nil, err
	}
	friends, err := s.store.Friends(ctx, mid)
	return mid, friends, err
}

func hasFriend(friends []store.Friend, mid string) bool {
	for _, f := range friends {
		if f.MemberID == mid {
			return true
		}
	}
	return false
}

// Friends lists the caller's friends with their profiles.
func (s *Service) Friends(ctx context.Context, openid string) (_ FriendList, err error) {
	defer fault.Classify(&err)
	_, friends, err := s.myFriends(ctx, openid)
	if err != nil {
		return FriendList{}, err
	}
	items, err := s.store.BoardItems(ctx, "", friends, true)
	if err != nil {
		return FriendList{}, err
	}
	out := FriendList{Friends: make([]FriendView, len(friends))}
	for i, f := range friends {
		p := items[f.MemberID].Profile
		out.Friends[i] = FriendView{FriendID: f.MemberID, Nickname: p.Nickname, AvatarURL: p.AvatarURL}
	}
	return out, nil
}

// FriendsBoard is the board of the caller and their friends on date ("" for today).
func (s *Service) FriendsBoard(ctx context.Context, openid, date string) (_ MemberBoard, err error) {
	defer fault.Classify(&err)
	date, err = s.boardDate(date)
	if err != nil {
		return MemberBoard{}, err
	}
	mid, friends, err := s.myFriends(ctx, openid)
	if err != nil {
		return MemberBoard{}, err
	}
	return s.memberBoard(ctx, date, append(friends, store.Friend{MemberID: mid, OpenID: openid}), mid)
}

// Unfriend ends a friendship both ways.
func (s *Service) Unfriend(ctx context.Context, openid, friendID string) (err error) {
	defer fault.Classify(&err)
	if !crypto.ValidID(friendID) {
		return fault.FriendNotFound
	}
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return err
	}
	found, err := s.store.Unfriend(ctx, mid, friendID)
	if err == nil && !found {
		return fault.FriendNotFound
	}
	return err
}
