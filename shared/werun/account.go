package werun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// DefaultRetentionDays is how long a day is kept after its date when no
// retention is configured: a year and a month, so a year-on-year view works.
const DefaultRetentionDays = 400

// revocationMargin covers the clock skew Verify allows on a token's expiry.
const revocationMargin = 5 * time.Minute

// dayExpiry is when a day leaves the table: RetentionDays after its date
// (midnight China Standard Time).
func (s *Service) dayExpiry(date string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, date, steps.CST)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, s.retention)
}

// retained drops the days past their retention, also those written before
// days carried an expiry, which are judged by their date.
func (s *Service) retained(days []store.Day) []store.Day {
	now := s.now()
	return slices.DeleteFunc(days, func(d store.Day) bool { return !now.Before(s.dayExpiry(d.Date)) })
}

// Export is everything stored about the caller (GET /v1/me/export).
type Export struct {
	ExportedAt    string `json:"exportedAt"`
	OpenID        string `json:"openid"`
	RetentionDays int    `json:"retentionDays"`
	// Profile is null for a user who never used groups, friends or a profile.
	Profile     *ExportProfile    `json:"profile"`
	Days        []ExportDay       `json:"days"`
	Groups      []ExportGroup     `json:"groups"`
	Friends     []FriendView      `json:"friends"`
	Invites     []ExportInvite    `json:"invites"`
	SessionKeys ExportSessionKeys `json:"sessionKeys"`
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
func (s *Service) Export(ctx context.Context, c Caller) (_ Export, err error) {
	defer fault.Classify(&err)
	h, err := s.store.Holdings(ctx, c.OpenID)
	if err != nil {
		return Export{}, err
	}
	out := Export{
		ExportedAt: rfc3339(s.now()), OpenID: c.OpenID, RetentionDays: s.retention,
		Days: []ExportDay{}, Groups: []ExportGroup{}, Friends: []FriendView{}, Invites: []ExportInvite{},
		SessionKeys: ExportSessionKeys{Count: len(h.SessionKeysIssued), IssuedAt: []string{}},
	}
	for _, d := range s.retained(h.Days) {
		expires := d.ExpiresAt
		if expires.IsZero() {
			expires = s.dayExpiry(d.Date) // written before days had one
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
			out.Friends = append(out.Friends, FriendView{FriendID: f.MemberID, Nickname: p.Nickname, AvatarURL: p.AvatarURL})
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
	until := now.Add(crypto.TokenLifetime + revocationMargin)
	if !revoked {
		if err := s.store.Revoke(ctx, c.Account, until, false); err != nil {
			return err
		}
	}
	h, err := s.store.Holdings(ctx, c.OpenID)
	if err != nil {
		return err
	}
	if err := s.unboard(ctx, c.OpenID, h.Days); err != nil {
		return err
	}
	if err := s.store.Erase(ctx, h); err != nil {
		return err
	}
	return s.store.Revoke(ctx, c.Account, until, true)
}

// unboard takes the user out of every stored leaderboard snapshot, the
// published ones and those a scheduled run left half built.
func (s *Service) unboard(ctx context.Context, openid string, days []store.Day) error {
	snaps, err := s.store.Snapshots(ctx, s.appID, "BOARD#")
	if err != nil {
		return err
	}
	onBoard := map[string]int64{}
	for _, d := range days {
		if d.Board != "" {
			onBoard[d.Date] = d.Steps
		}
	}
	for _, snap := range snaps {
		var b *Board
		var doc any
		if strings.HasSuffix(snap.Name, "#NEXT") {
			var build boardBuild
			if json.Unmarshal(snap.Data, &build) != nil {
				continue
			}
			b, doc = &build.Board, &build
		} else {
			var pub Board
			if json.Unmarshal(snap.Data, &pub) != nil {
				continue
			}
			b, doc = &pub, &pub
		}
		if !b.remove(openid, onBoard) {
			continue
		}
		raw, _ := json.Marshal(doc)
		if err := s.store.PutSnapshot(ctx, s.appID, snap.Name, raw, snap.ExpiresAt); err != nil {
			return err
		}
	}
	return nil
}

// remove takes openid off the board: out of the top and the exclusions, and
// its count (from the top, else the stored day of that date) out of the
// totals. It reports whether the board held the user.
func (b *Board) remove(openid string, onBoard map[string]int64) bool {
	n, counted := onBoard[b.Date]
	held := false
	if i := slices.IndexFunc(b.Top, func(r Ranked) bool { return r.OpenID == openid }); i >= 0 {
		n, counted = b.Top[i].Steps, true
		b.Top = slices.Delete(b.Top, i, i+1)
		held = true
	}
	if i := slices.Index(b.Excluded, openid); i >= 0 {
		b.Excluded = slices.Delete(b.Excluded, i, i+1)
		held, counted = true, false // an excluded user was never counted
	}
	if counted && b.Users > 0 {
		if i := bucket(n); i < len(b.Histogram) && b.Histogram[i] > 0 {
			b.Histogram[i]--
			b.Users--
			held = true
		}
	}
	return held
}
