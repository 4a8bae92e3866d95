// Package account holds what a user can do with all their data at once:
// export it (GET /v1/me/export) and delete it (DELETE /v1/me). A deletion
// revokes the account first, so every token issued before it is refused
// from its answer on, then erases what the user holds.
package account

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/challenge"
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
	CurrentAccount(ctx context.Context, openid string) (account string, deleting bool, err error)
	MarkDeleting(ctx context.Context, openid, account string) (bool, error)
	PutDeletion(ctx context.Context, d store.Deletion) error
	Deletions(ctx context.Context) ([]store.Deletion, error)
	FinishDeletion(ctx context.Context, account string) error
	BoardItems(ctx context.Context, date string, members []store.Friend, profiles bool) (map[string]store.BoardItem, error)
}

// Events is what the account needs of the step challenges: a deletion
// takes the member out of every one, an export lists them;
// *challenge.Service satisfies it.
type Events interface {
	ForgetUser(ctx context.Context, memberID string) error
	ExportMine(ctx context.Context, openid, memberID string) (challenge.Mine, error)
}

// Config is what a Service is built from.
type Config struct {
	Store  Store
	Signer *crypto.Signer
	Boards *boards.Service
	// Events, when set, is told of every deletion first: the user leaves
	// their events and the ones they organize are cancelled. An export
	// lists them.
	Events Events
	Days   day.Rules
	// Delay is how long after a deletion its second pass is due: in a
	// deployment DELETION_DELAY, DefaultDeletionDelay unless the operator
	// says otherwise; tests set 0 to drive the second pass at once.
	Delay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service exports and deletes accounts. Build it once per container with
// New.
type Service struct {
	store  Store
	signer *crypto.Signer
	boards *boards.Service
	events Events
	days   day.Rules
	delay  time.Duration
	now    func() time.Time
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, signer: cfg.Signer, boards: cfg.Boards, events: cfg.Events, days: cfg.Days.WithDefaults(), delay: cfg.Delay, now: cfg.Now}
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
	// Events are the step challenges the user takes part in (with their
	// own credited days) and organizes (settings only).
	Events challenge.Mine `json:"events"`
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

// Export reads everything stored about the caller: two Queries, one
// round of BatchGetItems for the friends' nicknames, and the user's step
// challenges.
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
		Events:      challenge.Mine{Participating: []challenge.Participation{}, Organizing: []challenge.Event{}},
	}
	if s.events != nil {
		if out.Events, err = s.events.ExportMine(ctx, c.OpenID, h.MemberID); err != nil {
			return Export{}, err
		}
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

// DefaultDeletionDelay is how long after a deletion's answer its second pass
// is due: by then every request that authenticated before the revocation
// has ended (10 s for the API functions, 60 s for the refresher), with a
// margin for writes still in flight.
const DefaultDeletionDelay = 75 * time.Second

// DeleteAccount deletes every item of the user the session token names, in
// two passes. This first one marks the account as being deleted (so no
// login starts a new account before the deletion is complete), revokes it
// for as long as a token issued before now could live (so every such token
// is refused from the answer on), records the second pass due after the
// deletion delay, then takes the user off the stored boards and erases what
// names them, but for the marked account item and the memberId pointer the
// second pass starts from (store.Holdings.FirstPass). A deletion that
// failed part way (503) is recorded, so the second pass finishes it even if
// it is never resent; a resend with the same token runs this pass again.
// Once the second pass has run, the token gets fault.TokenInvalid like any
// other, and a token of an account since replaced never touches the newer
// one.
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
	marked, err := s.store.MarkDeleting(ctx, c.OpenID, c.Account)
	if err != nil {
		return err
	}
	if !marked {
		return fmt.Errorf("%w: the token's account is no longer the user's", fault.TokenInvalid)
	}
	until := now.Add(session.TTL + revocationMargin)
	var g errgroup.Group
	if !revoked {
		g.Go(func() error { return s.store.Revoke(ctx, c.Account, until, false) })
	}
	g.Go(func() error {
		return s.store.PutDeletion(ctx, store.Deletion{Account: c.Account, OpenID: c.OpenID, Due: now.Add(s.delay), Until: until})
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return s.erase(ctx, c.OpenID, true)
}

// erase takes the user out of their step challenges and off the stored
// boards, and deletes every item that names them, but for those the second
// pass starts from when firstPass.
func (s *Service) erase(ctx context.Context, openid string, firstPass bool) error {
	h, err := s.store.Holdings(ctx, openid)
	if err != nil {
		return err
	}
	if firstPass {
		h = h.FirstPass()
	}
	if s.events != nil && h.MemberID != "" {
		if err := s.events.ForgetUser(ctx, h.MemberID); err != nil {
			return err
		}
	}
	if err := s.boards.Unboard(ctx, openid, h.Days); err != nil {
		return err
	}
	return s.store.Erase(ctx, h)
}

// finishMargin is the time a second pass keeps in hand: one that would not
// finish before the deadline is left to the next run.
const finishMargin = 5 * time.Second

// FinishDeletions runs the second pass of every deletion due: whatever a
// request racing the deletion wrote after its first pass is found from the
// user (their partition, OpenIDIndex, their member partitions) and erased,
// the user leaves the stored boards again, the account item goes, and the
// revocation records the deletion as complete. A pass cut short or failed
// is due again at the next run, and one that fails does not hold back the
// others: the first failure is returned after them. The scheduled
// refresher calls it first.
func (s *Service) FinishDeletions(ctx context.Context) (finished int, err error) {
	defer fault.Classify(&err)
	pending, err := s.store.Deletions(ctx)
	if err != nil {
		return 0, err
	}
	deadline, bounded := ctx.Deadline()
	var failed error
	for _, d := range pending {
		if s.now().Before(d.Due) {
			continue
		}
		if bounded && time.Until(deadline) < finishMargin {
			break
		}
		// One pass that keeps failing must not hold back the others: it
		// is due again at the next run, and this run reports it.
		if err := s.finish(ctx, d); err != nil {
			failed = cmp.Or(failed, err)
			continue
		}
		finished++
	}
	return finished, failed
}

// finish runs one deletion's second pass.
func (s *Service) finish(ctx context.Context, d store.Deletion) error {
	current, _, err := s.store.CurrentAccount(ctx, d.OpenID)
	if err != nil {
		return err
	}
	// A newer account is the user's own again: never touched.
	if current == "" || current == d.Account {
		if err := s.erase(ctx, d.OpenID, false); err != nil {
			return err
		}
	}
	if err := s.store.Revoke(ctx, d.Account, d.Until, true); err != nil {
		return err
	}
	return s.store.FinishDeletion(ctx, d.Account)
}
