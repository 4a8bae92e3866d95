// Package account holds what a user can do with all their data at once:
// export it (GET /v1/me/export) and delete it (DELETE /v1/me). A deletion
// revokes the account first, so every token issued before it is refused
// from its answer on, then erases what the user holds.
package account

import (
	"context"
	"fmt"
	"time"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Store is what an export reads and a deletion erases;
// *store.DynamoStore satisfies it.
type Store interface {
	Holdings(ctx context.Context, openid string) (store.Holdings, error)
	Erase(ctx context.Context, h store.Holdings) error
	Revoke(ctx context.Context, account string, until time.Time, done bool) error
	Revoked(ctx context.Context, account string, now time.Time) (revoked, done bool, err error)
	BoardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, error)
}

// Config is what a Service is built from.
type Config struct {
	Store  Store
	Signer *crypto.Signer
	Boards *boards.Service
	Days   day.Rules
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service exports and deletes accounts. Build it once per container with
// New.
type Service struct {
	store  Store
	signer *crypto.Signer
	boards *boards.Service
	days   day.Rules
	now    func() time.Time
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, signer: cfg.Signer, boards: cfg.Boards, days: cfg.Days.WithDefaults(), now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// revocationMargin covers the clock skew Verify allows on a token's expiry.
const revocationMargin = 5 * time.Minute

// Export is everything stored about the caller (GET /v1/me/export).
type Export struct {
	ExportedAt    string `json:"exportedAt"`
	OpenID        string `json:"openid"`
	RetentionDays int    `json:"retentionDays"`
	// Profile is null for a user who never used groups, friends or a profile.
	Profile     *ExportProfile      `json:"profile"`
	Days        []ExportDay         `json:"days"`
	Groups      []ExportGroup       `json:"groups"`
	Friends     []social.FriendView `json:"friends"`
	Invites     []ExportInvite      `json:"invites"`
	SessionKeys ExportSessionKeys   `json:"sessionKeys"`
}

// ExportProfile is the caller's profile and the memberId others see.
type ExportProfile struct {
	MemberID  string `json:"memberId"`
	Nickname  string `json:"nickname"`
	AvatarURL string `json:"avatarUrl"`
}

// ExportDay is one stored day.
type ExportDay struct {
	Date      string `json:"date"`
	Steps     int64  `json:"steps"`
	Source    string `json:"source"`
	SyncedAt  string `json:"syncedAt"`
	ExpiresAt string `json:"expiresAt"`
}

// ExportGroup is one group membership.
type ExportGroup struct {
	GroupID   string `json:"groupId"`
	JoinedAt  string `json:"joinedAt"`
	ExpiresAt string `json:"expiresAt"`
}

// ExportInvite is one friend invitation the caller made.
type ExportInvite struct {
	InviteCode string `json:"inviteCode"`
	ExpiresAt  string `json:"expiresAt"`
}

// ExportSessionKeys says how many WeChat session keys are held and when
// each was issued; never a key.
type ExportSessionKeys struct {
	Count    int      `json:"count"`
	IssuedAt []string `json:"issuedAt"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Export reads everything stored about the caller: two Queries, and one
// round of BatchGetItems for the friends' nicknames.
func (s *Service) Export(ctx context.Context, c session.Caller) (_ Export, err error) {
	defer fault.Classify(&err)
	h, err := s.store.Holdings(ctx, c.OpenID)
	if err != nil {
		return Export{}, err
	}
	out := Export{
		ExportedAt: rfc3339(s.now()), OpenID: c.OpenID, RetentionDays: s.days.RetentionDays,
		Days: []ExportDay{}, Groups: []ExportGroup{}, Friends: []social.FriendView{}, Invites: []ExportInvite{},
		SessionKeys: ExportSessionKeys{Count: len(h.SessionKeysIssued), IssuedAt: []string{}},
	}
	for _, d := range s.days.Retained(h.Days, s.now()) {
		expires := d.ExpiresAt
		if expires.IsZero() {
			expires = s.days.Expiry(d.Date) // written before days had one
		}
		out.Days = append(out.Days, ExportDay{Date: d.Date, Steps: d.Steps, Source: d.Source,
			SyncedAt: rfc3339(d.UpdatedAt), ExpiresAt: rfc3339(expires)})
	}
	for _, t := range h.SessionKeysIssued {
		out.SessionKeys.IssuedAt = append(out.SessionKeys.IssuedAt, rfc3339(t))
	}
	if h.MemberID == "" {
		return out, nil
	}
	out.Profile = &ExportProfile{MemberID: h.MemberID, Nickname: h.Profile.Nickname, AvatarURL: h.Profile.AvatarURL}
	now := s.now()
	for _, g := range h.Groups {
		if g.ExpiresAt.After(now) {
			out.Groups = append(out.Groups, ExportGroup{GroupID: g.GroupID, JoinedAt: rfc3339(g.JoinedAt), ExpiresAt: rfc3339(g.ExpiresAt)})
		}
	}
	for _, inv := range h.Invites {
		if inv.ExpiresAt.After(now) {
			out.Invites = append(out.Invites, ExportInvite{InviteCode: inv.Code, ExpiresAt: rfc3339(inv.ExpiresAt)})
		}
	}
	if len(h.Friends) > 0 {
		items, err := s.store.BoardItems(ctx, "", h.Friends, true)
		if err != nil {
			return Export{}, err
		}
		for _, f := range h.Friends {
			p := items[f.MemberID].Profile
			out.Friends = append(out.Friends, social.FriendView{FriendID: f.MemberID, Nickname: p.Nickname, AvatarURL: p.AvatarURL})
		}
	}
	return out, nil
}

// DeleteAccount deletes every item of the user the session token names.
// The account is revoked first, for as long as a token issued before now
// could live, so every such token is refused from here on (Authenticate)
// and a sync racing the deletion finds the revocation after its writes
// (commit). Then the user's rows leave the stored boards, the items go, on
// both sides of memberships and friendships, and the revocation records
// that the deletion is complete. A deletion that failed part way (503) is
// finished by the same call with the same token; once it is complete, that
// token gets ErrTokenInvalid like any other.
func (s *Service) DeleteAccount(ctx context.Context, token string) (err error) {
	defer fault.Classify(&err)
	now := s.now()
	c, err := s.signer.Verify(token, now)
	if err != nil {
		return err
	}
	revoked, done, err := s.store.Revoked(ctx, c.Account, now)
	switch {
	case err != nil:
		return err
	case done:
		return fmt.Errorf("%w: the account was deleted", fault.TokenInvalid)
	}
	until := now.Add(session.TTL + revocationMargin)
	if !revoked {
		if err := s.store.Revoke(ctx, c.Account, until, false); err != nil {
			return err
		}
	}
	h, err := s.store.Holdings(ctx, c.OpenID)
	if err != nil {
		return err
	}
	if err := s.boards.Unboard(ctx, c.OpenID, h.Days); err != nil {
		return err
	}
	if err := s.store.Erase(ctx, h); err != nil {
		return err
	}
	return s.store.Revoke(ctx, c.Account, until, true)
}
