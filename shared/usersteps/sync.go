package usersteps

import (
	"context"
	"errors"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/opendata"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
)

// Sources recorded on each day, so an operator can tell the paths apart.
const (
	SourceEncrypted = "encryptedData"
	SourceCloudID   = "cloudID"
)

// SyncResult is the answer to a sync: every day the payload carried, at the
// count now stored, and how many days this sync changed.
type SyncResult struct {
	Days    []steps.Day
	Changed int
	// Session is set when the sync logged the user in (the stateless flow).
	Session *session.Session
}

// EncryptedSync is a sync from wx.getWeRunData's encryptedData and iv.
type EncryptedSync struct {
	Caller        session.Caller // from the session token; empty with Code
	Code          string         // a fresh wx.login code, for the stateless flow
	EncryptedData string
	IV            string
}

// SyncEncrypted decrypts the data with the user's session keys, newest first,
// and stores the days that changed. With a Code and no OpenID it logs the user
// in first and returns the new session too.
func (s *Service) SyncEncrypted(ctx context.Context, in EncryptedSync) (_ SyncResult, err error) {
	defer fault.Classify(&err)
	var (
		login *session.Session
		fresh string // the key code2Session just returned, tried first
	)
	caller := in.Caller
	if caller.OpenID == "" {
		sess, key, err := s.sessions.LoginWithKey(ctx, in.Code)
		if err != nil {
			return SyncResult{}, err
		}
		login, fresh = &sess, key
		caller = session.Caller{OpenID: sess.OpenID, Account: sess.Account, MemberID: sess.MemberID}
	}
	authorized := s.authorize(ctx, caller, login == nil)
	user, err := s.store.LoadUser(ctx, caller.OpenID, steps.FirstDate(s.now()))
	var payload steps.Payload
	if err == nil {
		payload, err = s.open(opendata.SessionKeys(user, fresh), in.EncryptedData, in.IV)
	}
	if aerr := authorized(); aerr != nil {
		return SyncResult{}, aerr
	}
	if err != nil {
		return SyncResult{}, err
	}
	res, err := s.commit(ctx, caller.OpenID, user, payload, SourceEncrypted)
	res.Session = login
	return res, err
}

// authorize starts the revocation read of a caller who came with a token
// beside the sync's first read, so it costs no round trip of its own; the
// function it returns waits for it, and nothing is written before it says
// the account stands. A caller this sync just logged in needs none (check
// false). A deletion answers 204 only after its revocation is written, so
// a sync that starts after that reads the revocation and writes nothing;
// one that read it just before leaves days that the deletion's second
// pass erases (package account).
func (s *Service) authorize(ctx context.Context, caller session.Caller, check bool) func() error {
	if !check {
		return func() error { return nil }
	}
	return s.sessions.Alongside(ctx, caller)
}

// open decrypts WeRun data with the first key that opens it.
func (s *Service) open(keys []string, encryptedData, iv string) (steps.Payload, error) {
	var p steps.Payload
	err := s.opener.Decrypt(keys, encryptedData, iv, func(plain []byte) (crypto.Watermark, bool, error) {
		var err error
		p, err = steps.ParsePayload(plain)
		return p.Watermark, !errors.Is(err, steps.ErrMalformedPayload), err
	})
	return p, err
}

// commit is the one write path both ways in end in, once the caller is
// known to stand: check the watermark, validate the list, write only the
// days that grew, then credit the user's running events with them.
func (s *Service) commit(ctx context.Context, openid string, user store.User, p steps.Payload, source string) (SyncResult, error) {
	now := s.now()
	if err := p.Watermark.Check(s.appID, now, s.maxAge); err != nil {
		return SyncResult{}, err
	}
	days, err := steps.Validate(p.StepInfoList, now)
	if err != nil {
		return SyncResult{}, err
	}
	stored := make(map[string]store.Day, len(user.Days))
	counts := make(map[string]int64, len(user.Days))
	for _, d := range s.days.Retained(user.Days, now) {
		stored[d.Date], counts[d.Date] = d, d.Steps
	}
	changed := steps.Diff(counts, days)
	today := steps.DateOf(now)
	writes := make([]store.Day, len(changed))
	for i, d := range changed {
		writes[i] = store.Day{Date: d.Date, Steps: d.Steps, SourceTS: p.Watermark.Timestamp, Source: source, UpdatedAt: now,
			ExpiresAt: s.days.Expiry(d.Date), PrevSteps: stored[d.Date].Steps, PrevSourceTS: stored[d.Date].SourceTS}
		switch {
		case !s.days.Plausible(d.Steps, p.Watermark.Timestamp, d.Date):
			// Stored for the user's history, kept off the boards.
			writes[i].OffBoard = true
		case d.Date == today:
			// Today's day alone joins the sparse index today's board is read from.
			writes[i].Board = day.BoardShard(openid, today)
		}
	}
	write := func(ctx context.Context) ([]store.Day, error) { return s.store.WriteDays(ctx, openid, writes) }
	var written []store.Day
	if s.events != nil && len(user.Events) > 0 {
		// The credits go beside the writes: a sync in events takes no
		// more round trips than one outside them. It runs with nothing to
		// write too, as a mark may be due its recount.
		written, err = s.events.Credit(ctx, openid, user.Events, writes, write)
	} else {
		written, err = write(ctx)
	}
	if err != nil {
		return SyncResult{}, fmt.Errorf("werun: store days: %w", err)
	}
	// A day already stored at a higher count answers with that count, which
	// is what a read of the day would show.
	for i, d := range days {
		if n, ok := counts[d.Date]; ok && n > d.Steps {
			days[i].Steps = n
		}
	}
	return SyncResult{Days: days, Changed: len(written)}, nil
}
